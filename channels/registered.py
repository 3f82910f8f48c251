"""Registers the built-in channels."""
from bench.registry import CHANNELS
from channels.analog import AWGN, Rayleigh

CHANNELS.register("awgn", "additive white Gaussian noise, SNR = Es/N0 per complex symbol")(AWGN)
CHANNELS.register(
    "rayleigh",
    "Rayleigh fading h~CN(0,1); options fading=fast|block, block=N symbols, csi=perfect|none",
)(Rayleigh)
