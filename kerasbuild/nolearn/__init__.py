"""Convert nolearn/Lasagne scripts into kerasbuild specs by reading (never running) them."""

from .convert import ConversionResult, ConvertedNet, from_nolearn

__all__ = ["ConversionResult", "ConvertedNet", "from_nolearn"]
