"""Extensions (``hermetic.ext``): ``hybrid`` (hybrid attributes), ``asyncio``."""
