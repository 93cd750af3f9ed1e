"""Recording files (data-contracts §1): CSV (optionally .csv.gz) with `# key: value` header lines.

Columns: time_s, acc_x, acc_y, acc_z (m/s², specific force), gyr_x, gyr_y, gyr_z (rad/s), optional
mag_x, mag_y, mag_z (µT) — all in the **sensor frame**. Unit conversion (g -> m/s², deg/s -> rad/s)
only happens when the caller says so (``acc_unit``/``gyro_unit``); the core refuses wrong units.
"""

from __future__ import annotations

import gzip
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitmon.core.types import GaitmonInputError

REQUIRED = ("time_s", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")
G0 = 9.80665


class _NominalAxes:
    """``forward`` / ``up``: the nominal sensor axes named in the file header, if any."""

    meta: dict

    @property
    def forward(self) -> str | None:
        return self.meta.get("forward")

    @property
    def up(self) -> str | None:
        return self.meta.get("up")


@dataclass
class Recording(_NominalAxes):
    """Raw samples of one sensor: time (s), acc (n,3) m/s², gyr (n,3) rad/s, sensor frame."""

    time: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray
    meta: dict = field(default_factory=dict)
    bad_rows: int = 0  # rows that could not be parsed (counted, not silently dropped)


#: rows per chunk handed to the analysis: ~13 MB of float64 columns — memory stays flat in the
#: recording's length, and chunks are large enough that the per-chunk cost does not show
CHUNK_ROWS = 1 << 18
#: bytes of CSV text pyarrow parses at a time (~16k rows): its parse buffers take several times
#: this, so small blocks keep the reader's memory small; the speed is the same from 1 MB up
_ARROW_BLOCK_BYTES = 1 << 20
_SEPARATORS = ((";", "semicolons"), ("\t", "tabs"), ("|", "'|'"))


class RecordingStream(_NominalAxes):
    """A recording read in chunks: header (``meta``) parsed on opening, samples by :meth:`chunks`.

    ``chunks()`` yields ``(time s, acc (n,3) m/s², gyr (n,3) rad/s)`` blocks of about
    :data:`CHUNK_ROWS` rows, converted to the core's units. Parsing is pyarrow's CSV reader
    (C++, block by block); rows it cannot convert fall back to a Python line parser from that
    row on. After iteration: ``bad_rows`` (rows that could not be parsed, counted not dropped
    silently), ``n_rows``, ``t_first``/``t_last`` (s, of the rows read).
    """

    def __init__(self, path, *, acc_unit: str | None = None, gyro_unit: str | None = None,
                 chunk_rows: int = CHUNK_ROWS):
        self.path = Path(path)
        if not self.path.exists():
            raise GaitmonInputError(f"{self.path}: no such file")
        if self.path.is_dir():
            raise GaitmonInputError(f"{self.path}: is a directory, not a recording")
        self.chunk_rows = int(chunk_rows)
        self.meta: dict[str, str] = {}
        self.bad_rows = 0
        self.n_rows = 0
        self.t_first: float | None = None
        self.t_last: float | None = None
        self._read_header()
        acc_unit = (acc_unit or self.meta.get("acc_unit") or "mps2").lower()
        gyro_unit = (gyro_unit or self.meta.get("gyro_unit") or "rads").lower()
        if acc_unit not in ("g", "mps2", "m/s2", "m/s^2"):
            raise GaitmonInputError(f"--acc-unit must be g or mps2, got {acc_unit!r}")
        if gyro_unit not in ("dps", "deg/s", "rads", "rad/s"):
            raise GaitmonInputError(f"--gyro-unit must be dps or rads, got {gyro_unit!r}")
        self._acc_scale = G0 if acc_unit == "g" else 1.0
        self._gyr_scale = math.pi / 180.0 if gyro_unit in ("dps", "deg/s") else 1.0

    # ------------------------------------------------------------------ header
    def _read_header(self) -> None:
        """`# key: value` lines, then the column header; remember where the data start."""
        offset = 0  # bytes of the (decompressed) text before the first data row
        try:
            with self._open_binary() as fh:
                for raw in fh:
                    offset += len(raw)
                    line = raw.decode("utf-8")
                    if offset == len(raw) and line.startswith("\ufeff"):
                        line = line[1:]  # UTF-8 BOM (spreadsheet exports)
                    s = line.strip()
                    if not s:
                        continue
                    if s.startswith("#"):
                        if ":" in s:
                            k, v = s[1:].split(":", 1)
                            self.meta[k.strip().lower()] = v.strip()
                        continue
                    self._set_header(s)
                    break
                else:
                    raise GaitmonInputError(f"{self.path.name}: no samples (empty file or header only)")
        except UnicodeDecodeError as exc:
            raise GaitmonInputError(f"{self.path.name}: not UTF-8 text ({exc.reason} at byte {offset + exc.start})"
                                    ) from None
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise GaitmonInputError(f"{self.path.name}: cannot read ({exc.__class__.__name__}: {exc})") from None
        self._data_offset = offset

    def _set_header(self, s: str) -> None:
        header = [c.strip().strip('"\'').strip().lower() for c in s.split(",")]
        missing = [c for c in REQUIRED if c not in header]
        sep = next((name for ch, name in _SEPARATORS if len(header) == 1 and ch in s), None)
        if missing and sep:
            raise GaitmonInputError(
                f"{self.path.name}: the columns are separated by {sep}; gaitmon reads comma-separated "
                f"files (header {','.join(REQUIRED)}, '.' as decimal point; see docs/recording-format.md)")
        if missing:
            raise GaitmonInputError(
                f"{self.path.name}: missing column(s) {', '.join(missing)}; expected header "
                f"{','.join(REQUIRED)}[,mag_x,mag_y,mag_z] (see docs/recording-format.md)")
        dup = sorted({c for c in header if header.count(c) > 1 and c in REQUIRED})
        if dup:
            raise GaitmonInputError(f"{self.path.name}: column(s) {', '.join(dup)} appear twice in the header")
        self.header = [c or f"_unnamed_{i}" for i, c in enumerate(header)]
        self._idx = [header.index(c) for c in REQUIRED]

    def _open_binary(self):
        if self.path.suffix == ".gz":
            return gzip.open(self.path, "rb")
        return open(self.path, "rb")

    # ------------------------------------------------------------------ samples
    def chunks(self):
        """Yield (time, acc, gyr) blocks in the core's units (see the class docstring)."""
        for block in self._blocks():
            if not len(block):
                continue
            if self.t_first is None:
                self.t_first = float(block[0, 0])
            self.t_last = float(block[-1, 0])
            self.n_rows += len(block)
            acc = block[:, 1:4]
            gyr = block[:, 4:7]
            if self._acc_scale != 1.0:
                acc = acc * self._acc_scale
            if self._gyr_scale != 1.0:
                gyr = gyr * self._gyr_scale
            yield block[:, 0], acc, gyr
        if self.n_rows == 0:
            if self.bad_rows:
                raise GaitmonInputError(f"{self.path.name}: none of the {self.bad_rows} data rows holds numbers in "
                                        f"every column {','.join(REQUIRED)} (a decimal comma?)")
            raise GaitmonInputError(f"{self.path.name}: no samples (empty file or header only)")

    def _blocks(self):
        """(n, 7) float64 blocks: pyarrow while it can, then the Python parser from that row on."""
        try:
            import pyarrow  # noqa: F401
        except ImportError:  # pragma: no cover - pyarrow is a dependency; keep working without it
            yield from self._python_blocks(0)
            return
        consumed = 0  # non-empty data lines pyarrow has delivered or skipped in complete batches
        bad_then = 0  # bad rows counted up to there (the failed block's are counted again below)
        try:
            for block, lines in self._arrow_blocks():
                consumed, bad_then = lines, self.bad_rows
                yield block
            return
        except _ArrowGaveUp:
            pass
        self.bad_rows = bad_then
        yield from self._python_blocks(consumed)

    def _arrow_blocks(self):
        import pyarrow as pa
        import pyarrow.csv as pacsv

        skipped = [0]

        def on_invalid(row) -> str:  # wrong number of columns: a comment, a torn line
            if not (row.text or "").lstrip().startswith("#"):
                self.bad_rows += 1
            skipped[0] += 1
            return "skip"

        cols = [self.header[i] for i in self._idx]
        try:
            stream = pa.input_stream(str(self.path), compression="gzip" if self.path.suffix == ".gz" else None)
            stream.read(self._data_offset)
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(column_names=self.header, block_size=_ARROW_BLOCK_BYTES,
                                               use_threads=False),
                parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
                convert_options=pacsv.ConvertOptions(column_types={c: pa.float64() for c in cols},
                                                     include_columns=cols, strings_can_be_null=True,
                                                     quoted_strings_can_be_null=True))
        except (pa.ArrowInvalid, OSError) as exc:
            if isinstance(exc, OSError) and not isinstance(exc, pa.ArrowException):
                raise GaitmonInputError(f"{self.path.name}: cannot read ({exc})") from None
            raise _ArrowGaveUp from None
        delivered = 0
        try:
            with stream:
                while True:
                    try:
                        batch = reader.read_next_batch()
                    except StopIteration:
                        return
                    except (pa.ArrowInvalid, UnicodeDecodeError):
                        raise _ArrowGaveUp from None
                    except OSError as exc:  # a damaged .gz, a read error
                        raise GaitmonInputError(f"{self.path.name}: cannot read ({exc})") from None
                    n = batch.num_rows
                    if not n:
                        continue
                    block = np.empty((n, 7))
                    for j, c in enumerate(cols):
                        block[:, j] = batch.column(c).to_numpy(zero_copy_only=False)
                    delivered += n
                    yield block, delivered + skipped[0]
        finally:
            stream.close()

    def _python_blocks(self, skip_lines: int):
        """Line-by-line parser (values pyarrow refused: '1,2e', '0x10' ...), from the
        ``skip_lines``-th non-empty data line on; bad rows are counted, never used."""
        idx = self._idx
        rows: list[list[float]] = []
        try:
            with self._open_binary() as fh:
                fh.seek(self._data_offset) if self.path.suffix != ".gz" else fh.read(self._data_offset)
                seen = 0
                for raw in fh:
                    s = raw.decode("utf-8").strip()
                    if not s:
                        continue
                    if seen < skip_lines:
                        seen += 1
                        continue
                    if s.startswith("#"):
                        continue
                    parts = s.split(",")
                    if '"' in s:
                        parts = [p.strip().strip('"') for p in parts]
                    try:
                        rows.append([float(parts[i]) if parts[i].strip() else math.nan for i in idx])
                    except (ValueError, IndexError):
                        self.bad_rows += 1
                    if len(rows) >= self.chunk_rows:
                        yield np.array(rows, dtype=float)
                        rows = []
        except UnicodeDecodeError as exc:
            raise GaitmonInputError(f"{self.path.name}: not UTF-8 text ({exc.reason})") from None
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise GaitmonInputError(f"{self.path.name}: cannot read ({exc.__class__.__name__}: {exc})") from None
        if rows:
            yield np.array(rows, dtype=float)


class ArrayStream(_NominalAxes):
    """A :class:`Recording` already in memory (e.g. a phone export) with the interface of
    :class:`RecordingStream` (``meta``, ``bad_rows``, ``t_first``/``t_last``, ``chunks()``)."""

    def __init__(self, rec: Recording):
        self.rec = rec
        self.meta = rec.meta
        self.bad_rows = rec.bad_rows
        self.n_rows = len(rec.time)
        self.t_first = float(rec.time[0]) if len(rec.time) else None
        self.t_last = float(rec.time[-1]) if len(rec.time) else None

    def chunks(self):
        yield self.rec.time, self.rec.acc, self.rec.gyr


class _ArrowGaveUp(Exception):
    """pyarrow cannot convert a row: the Python parser takes over from there."""


def open_recording(path, *, acc_unit: str | None = None, gyro_unit: str | None = None,
                   chunk_rows: int = CHUNK_ROWS) -> RecordingStream:
    """Open a recording for chunked reading (header checked now). See :class:`RecordingStream`."""
    return RecordingStream(path, acc_unit=acc_unit, gyro_unit=gyro_unit, chunk_rows=chunk_rows)


def read_recording(path, *, acc_unit: str | None = None, gyro_unit: str | None = None) -> Recording:
    """Read a whole recording CSV (or .csv.gz) into memory. Raises GaitmonInputError with a
    one-line reason. (``gaitmon analyze`` streams instead: :func:`open_recording`.)"""
    stream = open_recording(path, acc_unit=acc_unit, gyro_unit=gyro_unit)
    parts = list(stream.chunks())
    t = np.concatenate([p[0] for p in parts])
    acc = np.concatenate([p[1] for p in parts])
    gyr = np.concatenate([p[2] for p in parts])
    return Recording(time=t, acc=acc, gyr=gyr, meta=stream.meta, bad_rows=stream.bad_rows)


def write_recording(path, time, acc, gyr, meta: dict | None = None, gz: bool | None = None) -> None:
    """Write a recording CSV (gzip if the name ends in .gz). Units: s, m/s², rad/s, sensor frame."""
    path = Path(path)
    buf = io.StringIO()
    for k, v in (meta or {}).items():
        buf.write(f"# {k}: {v}\n")
    buf.write(",".join(REQUIRED) + "\n")
    data = np.column_stack([time, acc, gyr])
    np.savetxt(buf, data, delimiter=",", fmt=["%.5f"] + ["%.5f"] * 6)
    text = buf.getvalue()
    if gz if gz is not None else path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text)
