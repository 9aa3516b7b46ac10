"""Server configuration: defaults, overridden by a TOML file, then environment, then CLI flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vrculture.server.goal_figures import FigureSettings
from vrculture.server.mqtt_settings import MqttSettings
from vrculture.server.webfiles import default_web_dir


@dataclass
class RoomSettings:
    capacity: int = 50  # visitors per room; a full room opens an overflow room of the exhibition
    tick_hz: float = 20.0  # batched state updates per second
    nearest_full_rate: int = 24  # avatars a visitor gets at the full tick rate; the rest at <= 2 Hz
    far_rate_hz: float = 2.0
    max_message_bytes: int = 4096
    max_messages_per_second: float = 60.0  # sustained; bursts allowed up to twice this
    max_name_chars: int = 32


@dataclass
class ServerConfig:
    bundles: list[Path] = field(default_factory=list)  # bundle folders given on the command line
    data_dir: Path = Path("data")  # SQLite database, published bundles, TLS material
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None  # e.g. https://museum.example/vr behind a reverse proxy
    # Origins allowed to embed the viewer (CSP frame-ancestors) and to open WebSockets;
    # the server's own origin is always allowed. "*" allows any.
    allowed_origins: list[str] = field(default_factory=list)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    self_signed: bool = False
    web_dir: Path = field(default_factory=default_web_dir)  # the viewer's pages and modules
    rooms: RoomSettings = field(default_factory=RoomSettings)
    redis_url: str | None = None  # set to share rooms and feeds between processes via Redis
    # postgresql://… : feeds, readings, guide codes and the curator token in PostgreSQL instead
    # of data_dir's SQLite file. It may carry a password: kept out of the config's repr.
    database: str | None = field(default=None, repr=False)
    # Against slow and greedy clients (see server/connections.py): a request's head must arrive
    # within header_timeout seconds; connections per client address and in total are capped
    # (None: derived from the open-file limit).
    # Host names (Host header) this server answers to; others get 421, so that a page served
    # under another name (DNS rebinding) cannot use it. Empty: localhost, 127.0.0.1, ::1, the
    # public URL's host and the bind host (with 0.0.0.0/::, this machine's addresses and name).
    # "*" allows any.
    allowed_hosts: list[str] = field(default_factory=list)
    header_timeout: float = 10.0
    max_connections: int | None = None
    max_connections_per_client: int | None = None
    # Reverse proxies (addresses or networks) whose X-Forwarded-For / X-Real-IP /
    # X-Forwarded-Proto are believed; from anyone else those headers are ignored.
    trusted_proxies: list[str] = field(default_factory=list)
    # [mqtt]: the broker `vrculture serve` subscribes to for sensor feeds (see mqtt_settings.py)
    mqtt: MqttSettings | None = None
    # [ngsi_ld.feeds.FEED]: entity attribute -> reading field, per feed (see ngsi_ld.py)
    ngsi_ld: dict[str, dict[str, str]] = field(default_factory=dict)
    # [figures]: the assumptions behind the smart exhibits' goal figures (figure_settings.py)
    figures: FigureSettings = field(default_factory=FigureSettings)
