"""The live preview while designing (issue 18, item 1): docs/preview.md."""
from .chooser import install_live_preview
from .controller import LivePreview

__all__ = ["LivePreview", "install_live_preview"]
