"""QR reading: decoders behind one interface, the gate's scan pipeline, and debounce."""

from devices.qr.debounce import Debouncer
from devices.qr.decoders import DECODER_NAMES, DEFAULT_DECODER, Decoder, DecoderUnavailable, make_decoder
from devices.qr.grey import to_grey
from devices.qr.images import ImageReadError, expand_image_paths, load_image
from devices.qr.pipeline import FrameScan, ScanPipeline
from devices.qr.result import Decoded, text_from_bytes

__all__ = [
    "DECODER_NAMES",
    "DEFAULT_DECODER",
    "Debouncer",
    "Decoded",
    "Decoder",
    "DecoderUnavailable",
    "FrameScan",
    "ImageReadError",
    "ScanPipeline",
    "expand_image_paths",
    "load_image",
    "make_decoder",
    "text_from_bytes",
    "to_grey",
]
