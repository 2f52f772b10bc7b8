"""Settings from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass
class Settings:
    database_url: str = field(
        default_factory=lambda: os.environ.get(
            "DATABASE_URL", "postgresql+asyncpg://root@127.0.0.1:5432/test"
        )
    )
    environment: str = field(default_factory=lambda: os.environ.get("APP_ENV", "development"))
    database_echo: bool = False
    database_pool_size: int = 5
    database_max_overflow: int = 10


settings = Settings()
