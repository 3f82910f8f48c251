"""Channel bandwidth ratio (CBR), paper eq. (5): rho = k / (H·W·C). Both conventions live here.

* ``cbr_paper``   — k counts REAL values sent: rho = (real values) / (H·W·C).
  The paper's Editable-DeepSC sends 512 reals for a 128×128×3 image: 512 / 49152 = 0.0104.
* ``cbr_complex`` — k counts COMPLEX channel uses (one I/Q symbol each):
  rho = (complex symbols) / (H·W·C), i.e. half of ``cbr_paper``.

Every stream in this suite is complex baseband, one complex symbol = two reals, so
real values = 2 × complex uses. For digital schemes the count includes the channel-code
redundancy: a 4-QAM symbol carries 2 coded bits, i.e. reals = coded bits. (The paper's
JPEG+LDPC figure 0.0389 at 0.7 bpp / 128 px equals info bits / (6·H·W·C), which leaves the
LDPC redundancy out; ours counts it.)
"""
from __future__ import annotations


def source_dims(height: int, width: int, channels: int = 3) -> int:
    return int(height) * int(width) * int(channels)


def cbr_complex(complex_uses: int, height: int, width: int, channels: int = 3) -> float:
    return complex_uses / source_dims(height, width, channels)


def cbr_paper(complex_uses: int, height: int, width: int, channels: int = 3) -> float:
    return 2 * complex_uses / source_dims(height, width, channels)


def cbr_table_convention(bpp: float | None, complex_uses: int, height: int, width: int, channels: int = 3) -> float:
    """The paper's Tables I/II figure: for a source-coded scheme (bpp known), information bits /
    (6·H·W·C) = bpp / (6·C) — 0.0389 at 0.7 bpp and 0.0111 at 0.2 bpp, the LDPC redundancy left out;
    for analog schemes the same as ``cbr_paper``."""
    if bpp is None:
        return cbr_paper(complex_uses, height, width, channels)
    return float(bpp) / (6 * int(channels))
