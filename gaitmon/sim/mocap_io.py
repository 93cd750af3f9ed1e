"""Motion-capture readers for the mocap simulator: the shared gzip-CSV format, TRC and C3D.

Every reader returns a :class:`MocapTrial`: marker trajectories in **metres** in the lab frame as
recorded (units detected from the data, not trusted from headers alone), marker names mapped to a
small canonical set (``LASI RASI LPSI RPSI SACR LILC RILC P1 P2 P3`` for the pelvis; foot markers
keep their side prefix ``L``/``R``), and, where the input has them, vertical ground-reaction
forces (N, positive up = force on the body) with the centre of pressure.

Formats
- shared CSV (``tests/data/real-running/README.md``): ``<trial>_markers.csv.gz`` with
  ``time_s,<M>_x,<M>_y,<M>_z…`` (metres, empty field = gap); sibling ``<trial>_grf.csv.gz`` or
  ``<trial>_forces.csv.gz`` (``time_s``, ``<chan>_fy_N`` [``<chan>_copx_m``, ``<chan>_copz_m``];
  ``chan`` = ``R``/``L`` names the foot, anything else is a plate) and ``<trial>_ik.csv.gz``.
- TRC (OpenSim/Cortex): tab-separated text, header with ``Units`` (mm or m), ``Frame#``,
  ``Time``, marker names every third column; empty fields = gaps.
- C3D, read with ezc3d (the maintained C3D library of the pyomeca project: reads and writes all
  C3D flavours, handles the parameter section and force platforms). Markers from ``POINT``
  (residual < 0 = gap); force platforms, when the file describes them, through ezc3d's
  force-platform extraction (vertical component, sign made positive under load).
"""

from __future__ import annotations

import gzip
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

PELVIS_MARKERS = ("LASI", "RASI", "LPSI", "RPSI", "SACR", "LILC", "RILC", "P1", "P2", "P3")
POSTERIOR_MARKERS = ("LPSI", "RPSI", "SACR", "P1", "P2", "P3")

# canonical pelvis name <- normalised source names (upper case, without '.', '_', '-', ' ')
_PELVIS_ALIASES = {
    "LASI": ("LASI", "LASIS", "LEFTASIS", "LASIS1", "LFWT", "LAS"),
    "RASI": ("RASI", "RASIS", "RIGHTASIS", "RFWT", "RAS"),
    "LPSI": ("LPSI", "LPSIS", "LEFTPSIS", "LBWT", "LPS"),
    "RPSI": ("RPSI", "RPSIS", "RIGHTPSIS", "RBWT", "RPS"),
    "SACR": ("SACR", "SACRUM", "SACRAL", "SAC", "S2", "VSACRAL", "MPSIS", "MIDPSIS"),
    "LILC": ("LILIACCREST", "LILC", "LIC", "LICR", "LILIAC", "LLICR"),
    "RILC": ("RILIACCREST", "RILC", "RIC", "RICR", "RILIAC", "RLICR"),
    "P1": ("P1",), "P2": ("P2",), "P3": ("P3",),
}
_ALIAS = {a: c for c, names in _PELVIS_ALIASES.items() for a in names}
# foot markers: side prefix + one of these keywords (heel group / forefoot group)
_HEEL_KEYS = ("CAL", "HEE", "HEEL", "HEELTOP", "HEELBOTTOM", "HEELLATERAL", "HLX")
_FORE_KEYS = ("TOE", "MT1", "MT2", "MT5", "P1MT", "P5MT", "MT", "MTH1", "MTH5", "FMH", "SMH", "VMH", "HALLUX", "TOE1")


def normalise_name(name: str) -> str:
    """Upper case without subject prefix (``subj:LASI``) and without ``. _ - space``."""
    name = name.split(":")[-1]
    return re.sub(r"[.\s_\-]", "", name).upper()


def canonical_marker(name: str) -> str | None:
    """Canonical name of a source marker name, ``None`` if it is neither pelvis nor foot.

    Pelvis markers map to ``PELVIS_MARKERS``; foot markers to ``L_HEEL:<n>``/``R_FORE:<n>``
    style names (side, group, normalised source name)."""
    n = normalise_name(name)
    if n in _ALIAS:
        return _ALIAS[n]
    side, rest = n[:1], n[1:]
    if side in ("L", "R") and rest:
        if True:
            if rest.startswith(("HEE", "CAL")) or rest in _HEEL_KEYS:
                return f"{side}_HEEL:{n}"
            if rest in _FORE_KEYS or rest.startswith(("TOE", "MT", "P1MT", "P5MT")):
                return f"{side}_FORE:{n}"
    return None


@dataclass
class ForceData:
    """Vertical ground-reaction force per channel (foot or plate), N, positive up (on the body).

    ``side`` per channel: 'R'/'L' when the source separates the feet, ``None`` for a plate.
    ``cop`` per channel: (n,3) centre of pressure in metres, lab frame (NaN where not given)."""

    time: np.ndarray
    fy: dict[str, np.ndarray]
    side: dict[str, str | None]
    cop: dict[str, np.ndarray] = field(default_factory=dict)
    source: str = ""


@dataclass
class MocapTrial:
    """One motion-capture trial: marker trajectories (m, lab frame), optional forces and IK."""

    name: str
    time: np.ndarray  # s
    markers: dict[str, np.ndarray]  # canonical name -> (n,3) m, lab frame; NaN = gap
    source_names: dict[str, str] = field(default_factory=dict)  # canonical -> source name
    forces: ForceData | None = None
    ik: dict[str, np.ndarray] | None = None
    path: str = ""
    units_in_file: str = "m"
    notes: list[str] = field(default_factory=list)

    @property
    def fs(self) -> float:
        t = self.time
        return float((len(t) - 1) / (t[-1] - t[0]))

    def pelvis_names(self) -> list[str]:
        return [m for m in PELVIS_MARKERS if m in self.markers and np.isfinite(self.markers[m]).any()]

    def foot_names(self, side: str, group: str | None = None) -> list[str]:
        pre = f"{side}_{group}:" if group else f"{side}_"
        return [m for m in self.markers if m.startswith(pre)]

    def swap_sides(self) -> None:
        """Swap all L/R labels (markers and force channels): for files whose labels are mirrored."""
        def sw(n: str) -> str:
            if n in ("LASI", "RASI", "LPSI", "RPSI", "LILC", "RILC"):
                return {"L": "R", "R": "L"}[n[0]] + n[1:]
            if n[:2] in ("L_", "R_"):
                return {"L": "R", "R": "L"}[n[0]] + n[1:]
            return n
        self.markers = {sw(k): v for k, v in self.markers.items()}
        self.source_names = {sw(k): v for k, v in self.source_names.items()}
        if self.forces is not None:
            self.forces.side = {k: ({"L": "R", "R": "L"}[s] if s else s) for k, s in self.forces.side.items()}


# ----------------------------------------------------------------------------- helpers
def _open_text(path: Path):
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")


def _read_csv_table(path: Path) -> tuple[list[str], np.ndarray]:
    with _open_text(path) as fh:
        lines = [ln for ln in fh if ln.strip() and not ln.startswith("#")]
    if not lines:
        raise ValueError(f"{path.name}: empty file")
    header = [h.strip() for h in lines[0].split(",")]
    rows = []
    for k, ln in enumerate(lines[1:]):
        parts = ln.rstrip("\n").split(",")
        try:
            rows.append([float(p) if p.strip() else np.nan for p in parts] + [np.nan] * (len(header) - len(parts)))
        except ValueError:
            raise ValueError(f"{path.name}: line {k + 2} is not numeric CSV (expected the shared marker/force "
                             "CSV format: a header row, then comma-separated numbers)") from None
    return header, np.array(rows, dtype=float).reshape(len(rows), len(header))


def _fix_units(markers: dict[str, np.ndarray], declared: str | None) -> tuple[dict[str, np.ndarray], str]:
    """Detect mm vs m from the data: a pelvis is ~0.1–0.3 m wide and sits ~1 m high."""
    pel = [markers[m] for m in PELVIS_MARKERS if m in markers]
    if len(pel) < 2:
        arr = np.concatenate([v for v in markers.values()]) if markers else np.zeros((1, 3))
        scale = np.nanmedian(np.abs(arr))
    else:
        c = np.nanmean(np.stack(pel), axis=0)  # (n,3) pelvis centroid
        scale = np.nanmedian(np.linalg.norm(np.stack(pel) - c[None], axis=2))
    units = "mm" if scale > 2.0 else "m"  # half-width ~0.1 m vs ~100 mm
    if declared and declared.lower().strip() not in (units,):
        pass  # the data decide; the header's claim is kept in notes by the caller
    if units == "mm":
        markers = {k: v / 1000.0 for k, v in markers.items()}
    return markers, units


def _collect_markers(names: list[str], xyz: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """names[i] with xyz[:, i, :] -> canonical dict (first occurrence wins)."""
    out, src = {}, {}
    for i, n in enumerate(names):
        c = canonical_marker(n)
        if c is None or c in out:
            continue
        out[c] = np.asarray(xyz[:, i, :], dtype=float)
        src[c] = n
    return out, src


# ----------------------------------------------------------------------------- shared CSV
def _sibling(markers_path: Path, suffixes: tuple[str, ...]) -> Path | None:
    stem = markers_path.name
    for tail in ("_markers.csv.gz", "_markers.csv"):
        if stem.endswith(tail):
            base = stem[: -len(tail)]
            for suf in suffixes:
                for ext in (".csv.gz", ".csv"):
                    p = markers_path.with_name(base + suf + ext)
                    if p.exists():
                        return p
    return None


def read_forces_csv(path) -> ForceData:
    """Force file of the shared format: ``time_s`` + ``<chan>_fy_N`` [+ ``_copx_m``/``_copz_m``]."""
    path = Path(path)
    header, a = _read_csv_table(path)
    if "time_s" not in header:
        raise ValueError(f"{path.name}: no time_s column")
    t = a[:, header.index("time_s")]
    fy, side, cop = {}, {}, {}
    for j, h in enumerate(header):
        m = re.fullmatch(r"(?:(.*)_)?fy_N", h, flags=re.I)
        if not m:
            continue
        ch = m.group(1) or "plate"
        fy[ch] = a[:, j]
        s = ch.upper()
        side[ch] = "R" if s in ("R", "RIGHT") else "L" if s in ("L", "LEFT") else None
        pre = "" if m.group(1) is None else ch + "_"
        c = np.full((len(t), 3), np.nan)
        for k, ax in enumerate("xyz"):
            if f"{pre}cop{ax}_m" in header:
                c[:, k] = a[:, header.index(f"{pre}cop{ax}_m")]
        cop[ch] = c
    if not fy:
        raise ValueError(f"{path.name}: no vertical force column (expected <channel>_fy_N)")
    return ForceData(time=t, fy=fy, side=side, cop=cop, source=str(path))


def read_shared_csv(path, forces=None) -> MocapTrial:
    """Read ``<trial>_markers.csv.gz`` (or give the trial prefix) and its force/IK siblings."""
    p = Path(path)
    if not p.exists() and not str(p).endswith((".csv", ".gz")):
        for ext in ("_markers.csv.gz", "_markers.csv"):
            if Path(str(p) + ext).exists():
                p = Path(str(p) + ext)
                break
    if not p.exists():
        raise ValueError(f"{path}: no such file")
    header, a = _read_csv_table(p)
    if "time_s" not in header:
        raise ValueError(f"{p.name}: no time_s column (shared marker CSV format expected)")
    names = []
    cols = []
    for j, h in enumerate(header):
        if h.endswith("_x") and h[:-2] + "_y" in header and h[:-2] + "_z" in header:
            names.append(h[:-2])
            cols.append([j, header.index(h[:-2] + "_y"), header.index(h[:-2] + "_z")])
    if not names:
        raise ValueError(f"{p.name}: no <MARKER>_x/_y/_z columns")
    xyz = np.stack([a[:, c] for c in cols], axis=1)
    markers, src = _collect_markers(names, xyz)
    markers, units = _fix_units(markers, "m")
    name = p.parent.name + "/" + re.sub(r"_markers\.csv(\.gz)?$", "", p.name)
    fpath = Path(forces) if forces else _sibling(p, ("_grf", "_forces"))
    fd = read_forces(fpath) if fpath else None
    ik = None
    ipath = _sibling(p, ("_ik",))
    if ipath is not None:
        ih, ia = _read_csv_table(ipath)
        ik = {h: ia[:, j] for j, h in enumerate(ih)}
    return MocapTrial(name=name, time=a[:, header.index("time_s")], markers=markers, source_names=src,
                      forces=fd, ik=ik, path=str(p), units_in_file=units)


# ----------------------------------------------------------------------------- TRC
def read_trc(path, forces=None) -> MocapTrial:
    """Read a TRC file (OpenSim / Cortex / Vicon export). Units from the header, checked on the data."""
    p = Path(path)
    with _open_text(p) as fh:
        lines = fh.read().splitlines()
    if len(lines) < 6 or not lines[0].startswith("PathFileType"):
        raise ValueError(f"{p.name}: not a TRC file (first line must start with PathFileType)")
    keys = lines[1].split("\t")
    vals = lines[2].split("\t")
    meta = dict(zip([k.strip() for k in keys], [v.strip() for v in vals]))
    names_row = lines[3].split("\t")
    if len(names_row) < 3 or names_row[0].strip() != "Frame#":
        raise ValueError(f"{p.name}: TRC header line 4 must start with Frame#, Time")
    names = [n.strip() for n in names_row[2::3] if n.strip()]
    rows = []
    for ln in lines[5:]:
        if not ln.strip():
            continue
        parts = ln.split("\t")
        vals_ = [float(x) if x.strip() else np.nan for x in parts[1:2 + 3 * len(names)]]
        vals_ += [np.nan] * (1 + 3 * len(names) - len(vals_))
        rows.append(vals_)
    a = np.array(rows, dtype=float)
    t = a[:, 0]
    xyz = a[:, 1:].reshape(len(t), len(names), 3)
    markers, src = _collect_markers(names, xyz)
    markers, units = _fix_units(markers, meta.get("Units"))
    fd = read_forces(forces) if forces else None
    return MocapTrial(name=p.stem, time=t, markers=markers, source_names=src, forces=fd, path=str(p),
                      units_in_file=units)


def write_trc(trial: MocapTrial, path, units: str = "mm") -> None:
    """Write the trial's markers (source names) as a TRC file in ``units`` (mm or m)."""
    k = 1000.0 if units == "mm" else 1.0
    names = list(trial.markers)
    n = len(trial.time)
    out = io.StringIO()
    out.write(f"PathFileType\t4\t(X/Y/Z)\t{Path(path).name}\n")
    out.write("DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames\n")
    fs = trial.fs
    out.write(f"{fs:g}\t{fs:g}\t{n}\t{len(names)}\t{units}\t{fs:g}\t1\t{n}\n")
    out.write("Frame#\tTime\t" + "\t\t\t".join(trial.source_names.get(m, m) for m in names) + "\t\t\n")
    out.write("\t\t" + "\t".join(f"X{i+1}\tY{i+1}\tZ{i+1}" for i in range(len(names))) + "\n")
    out.write("\n")
    for i in range(n):
        vals = []
        for m in names:
            v = trial.markers[m][i] * k
            vals += ["" if not np.isfinite(x) else f"{x:.6f}" for x in v]
        out.write(f"{i+1}\t{trial.time[i]:.6f}\t" + "\t".join(vals) + "\n")
    Path(path).write_text(out.getvalue())


# ----------------------------------------------------------------------------- C3D
def _ezc3d():
    try:
        import ezc3d
    except ImportError as exc:  # pragma: no cover - dependency declared in pyproject
        raise ValueError("reading C3D needs the ezc3d package (pip install ezc3d)") from exc
    return ezc3d


def read_c3d(path, forces=None) -> MocapTrial:
    """Read markers (and force platforms, if described) from a C3D file with ezc3d."""
    ez = _ezc3d()
    p = Path(path)
    if not p.exists():
        raise ValueError(f"{path}: no such file")
    try:
        c = ez.c3d(str(p), extract_forceplat_data=True)
    except Exception:  # force-platform parameters absent or odd: markers only
        try:
            c = ez.c3d(str(p))
        except Exception as exc:
            raise ValueError(f"{p.name}: cannot read C3D ({exc})") from None
    par = c["parameters"]
    labels = list(par["POINT"]["LABELS"]["value"])
    rate = float(np.ravel(par["POINT"]["RATE"]["value"])[0])
    units = par["POINT"].get("UNITS", {}).get("value", ["mm"])
    units = units[0] if len(units) else "mm"
    pts = np.asarray(c["data"]["points"], dtype=float)  # (4, n_markers, n_frames)
    xyz = np.transpose(pts[:3], (2, 1, 0)).copy()  # (n_frames, n_markers, 3)
    res = c["data"].get("meta_points", {}).get("residuals")
    if res is not None and np.size(res):
        bad = np.transpose(np.asarray(res)[0], (1, 0)) < 0
        xyz[bad] = np.nan
    first = 0
    try:
        first = int(np.ravel(c["header"]["points"]["first_frame"])[0])
    except Exception:
        pass
    t = (first + np.arange(xyz.shape[0])) / rate
    markers, src = _collect_markers(labels, xyz)
    markers, units_d = _fix_units(markers, units)
    fd = read_forces(forces) if forces else _c3d_forces(c, t[0], units_d)
    return MocapTrial(name=p.stem, time=t, markers=markers, source_names=src, forces=fd, path=str(p),
                      units_in_file=units_d)


def _c3d_forces(c, t0: float, units: str) -> ForceData | None:
    plats = c["data"].get("platform") or []
    if not plats:
        return None
    try:
        arate = float(np.ravel(c["parameters"]["ANALOG"]["RATE"]["value"])[0])
    except Exception:
        return None
    fy, side, cop = {}, {}, {}
    t = None
    for i, pf in enumerate(plats):
        f = np.asarray(pf["force"], dtype=float)  # (3, n) global frame
        if f.size == 0:
            continue
        # vertical = the component with the largest load; sign positive under load
        k = int(np.argmax(np.nanmax(np.abs(f), axis=1)))
        v = f[k]
        if np.nanmax(v) < -np.nanmin(v):
            v = -v
        ch = f"plate{i+1}"
        fy[ch] = v
        side[ch] = None
        cp = np.asarray(pf.get("center_of_pressure", np.full((3, f.shape[1]), np.nan)), dtype=float).T
        if units == "mm" or np.nanmedian(np.abs(cp)) > 20:
            cp = cp / 1000.0
        loaded = v > 0.2 * np.nanmax(v)
        if loaded.sum() > 3 and np.nanmax(np.nanstd(cp[loaded], axis=0)) < 1e-3:
            cp[:] = np.nan  # no moments recorded: the "COP" sits at the plate centre
        cop[ch] = cp
        t = t0 + np.arange(f.shape[1]) / arate
    if not fy:
        return None
    return ForceData(time=t, fy=fy, side=side, cop=cop, source="c3d force platforms")


def write_c3d(trial: MocapTrial, path, forces: bool = False) -> None:
    """Write the trial's markers (source names, mm) to a C3D file with ezc3d.

    ``forces=True`` also writes each vertical-force channel as a type-2 force platform (analog
    channels Fx..Mz, only the normal force non-zero, plate surface at the lab floor) resampled to
    an integer multiple of the marker rate. The C3D keeps no foot labels: a reader assigns sides
    from the foot markers."""
    ez = _ezc3d()
    names = list(trial.markers)
    c = ez.c3d()
    fs = float(round(trial.fs, 6))
    c["parameters"]["POINT"]["RATE"]["value"] = [fs]
    c["parameters"]["POINT"]["LABELS"]["value"] = tuple(trial.source_names.get(m, m) for m in names)
    c["parameters"]["POINT"]["UNITS"]["value"] = ["mm"]
    n = len(trial.time)
    pts = np.ones((4, len(names), n))
    for j, m in enumerate(names):
        pts[:3, j, :] = trial.markers[m].T * 1000.0
    c["data"]["points"] = pts
    c["header"]["points"]["first_frame"] = int(round(trial.time[0] * trial.fs))
    fd = trial.forces
    if forces and fd is not None and fd.fy:
        f_rate = (len(fd.time) - 1) / (fd.time[-1] - fd.time[0])
        ratio = max(1, int(round(f_rate / fs)))
        arate = fs * ratio
        ta = trial.time[0] + np.arange(n * ratio) / arate
        chans = list(fd.fy)
        labels, an = [], np.zeros((1, 6 * len(chans), n * ratio))
        for i, ch in enumerate(chans):
            labels += [f"{a}{i + 1}" for a in ("Fx", "Fy", "Fz", "Mx", "My", "Mz")]
            # plate measures the reaction: -F on its local z axis (pointing down into the plate)
            an[0, 6 * i + 2] = -np.interp(ta, fd.time, np.nan_to_num(fd.fy[ch]), left=0.0, right=0.0)
        c["parameters"]["ANALOG"]["RATE"]["value"] = [arate]
        c["parameters"]["ANALOG"]["LABELS"]["value"] = tuple(labels)
        c["parameters"]["ANALOG"]["UNITS"]["value"] = tuple(["N", "N", "N", "Nmm", "Nmm", "Nmm"] * len(chans))
        c["data"]["analogs"] = an
        INT = ez.ezc3d.INT

        def add_int(name, arr):
            arr = np.asarray(arr)
            c.add_parameter("FORCE_PLATFORM", name, arr.astype(float))
            c["parameters"]["FORCE_PLATFORM"][name]["type"] = INT
            c["parameters"]["FORCE_PLATFORM"][name]["value"] = arr.astype(int)

        k = len(chans)
        add_int("USED", np.array([k]))
        add_int("TYPE", np.full(k, 2))
        add_int("ZERO", np.array([1, 0]))
        add_int("CHANNEL", np.arange(1, 6 * k + 1).reshape(k, 6).T)
        corners = np.zeros((3, 4, k))
        for i in range(k):  # 0.6 x 0.4 m plates on the floor (lab X–Z plane at Y = 0, in mm)
            corners[:, :, i] = [[600 * (i + 1), 600 * i, 600 * i, 600 * (i + 1)], [0, 0, 0, 0], [400, 400, 0, 0]]
        c.add_parameter("FORCE_PLATFORM", "CORNERS", corners)
        c.add_parameter("FORCE_PLATFORM", "ORIGIN", np.zeros((3, k)))
    c.write(str(path))


# ----------------------------------------------------------------------------- dispatch
def read_forces(path) -> ForceData:
    p = Path(path)
    if not p.exists():
        raise ValueError(f"{path}: no such force file")
    if p.suffix.lower() == ".c3d":
        t = read_c3d(p)
        if t.forces is None:
            raise ValueError(f"{p.name}: no force platforms in this C3D")
        return t.forces
    return read_forces_csv(p)


def load_trial(path, forces=None) -> MocapTrial:
    """Read a trial from C3D, TRC or the shared CSV (markers file or prefix), with its forces."""
    s = str(path)
    low = s.lower()
    if low.endswith(".c3d"):
        return read_c3d(path, forces)
    if low.endswith(".trc") or low.endswith(".trc.gz"):
        return read_trc(path, forces)
    return read_shared_csv(path, forces)
