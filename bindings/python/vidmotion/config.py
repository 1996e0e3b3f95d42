"""Analysis settings and zones (``vmo_config``)."""

from __future__ import annotations

import ctypes
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

from . import _types as T
from ._lib import api, check, text

__all__ = ["Config", "Zone", "ZoneSpec", "OptionInfo", "options", "zone_spec_text"]

ZONE_INCLUDE = 0
ZONE_EXCLUDE = 1

#: A zone's shape: ``"x0,y0,x1,y1"`` / ``"poly:x,y;x,y;x,y"`` (the CLI's text), a rectangle
#: ``(x0, y0, x1, y1)``, or a polygon ``[(x, y), (x, y), (x, y), ...]``; coordinates 0..1.
ZoneSpec = Union[str, Sequence[float], Sequence[Sequence[float]]]


@dataclass(frozen=True)
class Zone:
    """A named zone. ``exclude=True`` makes it a privacy mask (never analysed)."""

    name: str
    spec: ZoneSpec
    exclude: bool = False


@dataclass(frozen=True)
class OptionInfo:
    """One analysis option (``vidmotion --options``)."""

    name: str
    type: str  # "int", "double" or "bool"
    help: str
    default: float
    min: float
    max: float


def options() -> list[OptionInfo]:
    """Every analysis option the loaded library knows, with its default and range."""
    out = []
    kinds = {0: "int", 1: "double", 2: "bool"}
    for i in range(api.vmo_config_option_count()):
        oi = T.sized(T.OptionInfo)
        check(api.vmo_config_option_info(i, ctypes.byref(oi)))
        out.append(OptionInfo(text(oi.name) or "", kinds.get(oi.type, "int"),
                              text(oi.help) or "", oi.default_value, oi.min_value,
                              oi.max_value))
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _polygon_points(spec: Any) -> list[tuple[float, float]] | None:
    try:
        pts = [(float(p[0]), float(p[1])) for p in spec]
        if all(len(p) == 2 for p in spec):
            return pts
    except (TypeError, IndexError, ValueError):
        pass
    return None


def zone_spec_text(spec: ZoneSpec) -> str:
    """A zone shape as the library's text form (rectangle or ``poly:``)."""
    if isinstance(spec, str):
        return spec
    seq = list(spec)  # type: ignore[arg-type]
    if len(seq) == 4 and all(_is_number(v) for v in seq):
        return ",".join(repr(float(v)) for v in seq)
    pts = _polygon_points(seq)
    if pts is None:
        raise TypeError(f"zone spec {spec!r}: expected a string, (x0, y0, x1, y1) or "
                        "a sequence of (x, y) points")
    return "poly:" + ";".join(f"{x!r},{y!r}" for x, y in pts)


def normalize_zones(zones: Mapping[str, ZoneSpec] | Iterable[Zone] | None,
                    masks: Mapping[str, ZoneSpec] | Iterable[ZoneSpec | Zone] | None
                    ) -> list[Zone]:
    """zones=/masks= arguments as a list of :class:`Zone`. Unnamed masks get mask1, mask2..."""
    out: list[Zone] = []
    if zones is not None:
        if isinstance(zones, Mapping):
            out += [Zone(str(k), v) for k, v in zones.items()]
        else:
            for z in zones:
                if not isinstance(z, Zone):
                    raise TypeError(f"zones: expected a mapping name -> spec or Zone objects, "
                                    f"got {z!r}")
                out.append(z)
    if masks is not None:
        if isinstance(masks, Mapping):
            out += [Zone(str(k), v, exclude=True) for k, v in masks.items()]
        elif isinstance(masks, str):
            out.append(Zone("mask1", masks, exclude=True))
        else:
            n = 0
            for m in masks:
                if isinstance(m, Zone):
                    out.append(Zone(m.name, m.spec, exclude=True))
                else:
                    n += 1
                    out.append(Zone(f"mask{n}", m, exclude=True))
    return out


class Config:
    """Analysis options and zones. Options are set by name (``Config(width=640)``,
    ``cfg["threshold"] = 6``); :func:`vidmotion.options` lists them.

    An :class:`~vidmotion.Analyzer` copies the config when it is created.
    """

    def __init__(self, *, zones: Mapping[str, ZoneSpec] | Iterable[Zone] | None = None,
                 masks: Mapping[str, ZoneSpec] | Iterable[ZoneSpec | Zone] | None = None,
                 zones_json: str | os.PathLike[str] | None = None,
                 **options: Any) -> None:
        h = ctypes.c_void_p()
        check(api.vmo_config_create(ctypes.byref(h)))
        self._h: ctypes.c_void_p | None = h
        for name, value in options.items():
            if value is not None:
                self.set(name, value)
        for z in normalize_zones(zones, masks):
            self.add_zone(z.name, z.spec, exclude=z.exclude)
        if zones_json is not None:
            self.add_zones_json(zones_json)

    # ---- handle ----
    @property
    def _handle(self) -> ctypes.c_void_p:
        if self._h is None:
            raise ValueError("the config is closed")
        return self._h

    def close(self) -> None:
        if self._h is not None:
            api.vmo_config_destroy(ctypes.byref(self._h))
            self._h = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def _check(self, rc: int) -> None:
        if rc != 0:
            check(rc, text(api.vmo_config_last_error(self._handle)))

    def copy(self) -> Config:
        new = Config.__new__(Config)
        h = ctypes.c_void_p()
        check(api.vmo_config_clone(self._handle, ctypes.byref(h)))
        new._h = h
        return new

    # ---- options ----
    def set(self, name: str, value: bool | int | float | str) -> None:
        """Sets option ``name`` (bool, int, float, or a string the library parses)."""
        key = name.encode()
        if isinstance(value, bool):
            rc = api.vmo_config_set_int(self._handle, key, int(value))
        elif isinstance(value, int):
            rc = api.vmo_config_set_int(self._handle, key, value)
        elif isinstance(value, float):
            rc = api.vmo_config_set_double(self._handle, key, value)
        elif isinstance(value, str):
            rc = api.vmo_config_set_string(self._handle, key, value.encode())
        else:
            raise TypeError(f"option {name}: unsupported value {value!r}")
        self._check(rc)

    def get(self, name: str) -> int | float | bool:
        """The value of option ``name``, typed as the option is."""
        kind = {o.name: o.type for o in options()}.get(name)
        key = name.encode()
        if kind == "double":
            d = ctypes.c_double()
            self._check(api.vmo_config_get_double(self._handle, key, ctypes.byref(d)))
            return d.value
        v = ctypes.c_int64()
        self._check(api.vmo_config_get_int(self._handle, key, ctypes.byref(v)))
        return bool(v.value) if kind == "bool" else v.value

    __getitem__ = get
    __setitem__ = set

    # ---- zones ----
    def add_zone(self, name: str, spec: ZoneSpec, *, exclude: bool = False) -> None:
        """Adds an include zone, or with ``exclude=True`` a privacy mask."""
        kind = ZONE_EXCLUDE if exclude else ZONE_INCLUDE
        key = name.encode()
        if isinstance(spec, str):
            rc = api.vmo_config_add_zone(self._handle, key, kind, spec.encode())
        else:
            seq = list(spec)  # type: ignore[arg-type]
            if len(seq) == 4 and all(_is_number(v) for v in seq):
                rc = api.vmo_config_add_zone_rect(self._handle, key, kind,
                                                  *(float(v) for v in seq))
            else:
                pts = _polygon_points(seq)
                if pts is None:
                    raise TypeError(f"zone {name}: expected a string, (x0, y0, x1, y1) or a "
                                    "sequence of (x, y) points")
                flat = (ctypes.c_double * (2 * len(pts)))(*(c for p in pts for c in p))
                rc = api.vmo_config_add_zone_polygon(self._handle, key, kind, flat, len(pts))
        self._check(rc)

    def add_mask(self, name: str, spec: ZoneSpec) -> None:
        """Adds a privacy mask: its pixels are never analysed."""
        self.add_zone(name, spec, exclude=True)

    def add_zones_json(self, source: str | os.PathLike[str]) -> None:
        """Zones from the ``--zones FILE`` JSON format (docs/zones.md): a JSON text or a
        path to such a file. All or nothing."""
        if isinstance(source, str) and source.lstrip().startswith("{"):
            doc = source
        else:
            with open(source, encoding="utf-8") as f:
                doc = f.read()
        self._check(api.vmo_config_add_zones_json(self._handle, doc.encode()))

    def clear_zones(self) -> None:
        api.vmo_config_clear_zones(self._handle)

    @property
    def zone_names(self) -> list[str]:
        """Reported zone names (``["frame"]`` when no include zone is defined)."""
        n = api.vmo_config_zone_count(self._handle)
        return [text(api.vmo_config_zone_name(self._handle, i)) or "" for i in range(n)]

    def __repr__(self) -> str:
        if self._h is None:
            return "<vidmotion.Config closed>"
        changed = []
        for o in options():
            v = self.get(o.name)
            if not math.isclose(float(v), o.default, rel_tol=0, abs_tol=1e-12):
                changed.append(f"{o.name}={v!r}")
        return f"<vidmotion.Config zones={self.zone_names} {' '.join(changed)}>".replace(" >", ">")
