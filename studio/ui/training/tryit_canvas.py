"""The Try it dock's drawing canvas: draw with the mouse (white on black, like the digits) or load a
picture; `pixels()` gives the drawing scaled down to the model's input size by averaging (as sklearn's
digits were made: each 8x8 cell is the mean ink of a 4x4 block of a 32x32 bitmap); a heat overlay
(an attribution) can be drawn over it."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QImageReader, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

SIDE = 224  # px of the bitmap drawn on (any input size scales from it by averaging)
STROKE = 1.3  # the pen's width in model pixels (a digit's line is about one cell wide)
HINT = "Draw here\nor drop a picture"


class DrawCanvas(QWidget):
    stroke_done = Signal()  # after each mouse release (and after a picture or a clear)
    file_dropped = Signal(str)  # a local file dropped on the canvas (the dock reads it as a picture)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("tryitCanvas")
        self.setMinimumSize(120, 120)  # fits the ~190 px bottom docks of a 1024x700 window
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setAcceptDrops(True)
        self.input_size = (8, 8)  # (H, W) of the model's input
        self.image = QImage(SIDE, SIDE, QImage.Format.Format_RGB32)
        self.overlay: QImage | None = None
        self._last: QPointF | None = None
        self.strokes = 0
        self.blank = True  # nothing drawn or opened: the canvas says what it is for
        self.clear(emit=False)

    def set_input_size(self, h: int, w: int) -> None:
        self.input_size = (h, w)
        self.image = QImage(SIDE, max(1, round(SIDE * h / w)), QImage.Format.Format_RGB32)
        self.clear(emit=False)

    def clear(self, emit: bool = True) -> None:
        self.image.fill(QColor("black"))
        self.overlay = None
        self.blank = True
        self.update()
        if emit:
            self.stroke_done.emit()

    def set_picture(self, picture: QImage, emit: bool = True) -> None:
        """Fill the canvas with `picture`, scaled to fit, centred on black (a picture no larger than the
        model's input, a sample, keeps its sharp cells)."""
        self.image.fill(QColor("black"))
        small = picture.width() <= self.input_size[1] and picture.height() <= self.input_size[0]
        scaled = picture.scaled(self.image.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                Qt.TransformationMode.FastTransformation if small
                                else Qt.TransformationMode.SmoothTransformation)
        p = QPainter(self.image)
        p.drawImage((self.image.width() - scaled.width()) // 2, (self.image.height() - scaled.height()) // 2, scaled)
        p.end()
        self.overlay = None
        self.blank = False
        self.update()
        if emit:
            self.stroke_done.emit()

    def pixels(self) -> np.ndarray:
        """The drawing as [3, H, W] floats in 0..1 at the model's input size (block averages)."""
        import torch

        img = self.image.convertToFormat(QImage.Format.Format_RGB888)
        w, h, stride = img.width(), img.height(), img.bytesPerLine()
        raw = np.frombuffer(img.constBits(), np.uint8, count=stride * h).reshape(h, stride)[:, :w * 3]
        rgb = torch.from_numpy(raw.reshape(h, w, 3).astype(np.float32) / 255.0).permute(2, 0, 1)[None]
        return torch.nn.functional.interpolate(rgb, size=self.input_size, mode="area")[0].numpy()

    def set_overlay(self, heat: np.ndarray | None) -> None:
        """Draw `heat` ([H, W], any range; None: none) over the drawing: transparent at zero, red-yellow
        where it is high (negative values in blue)."""
        if heat is None:
            self.overlay = None
        else:
            lim = float(np.abs(heat).max()) or 1.0
            t = np.clip(heat / lim, -1, 1)
            rgba = np.zeros((*heat.shape, 4), np.uint8)
            pos, neg = np.clip(t, 0, 1), np.clip(-t, 0, 1)
            rgba[..., 0] = (255 * pos).astype(np.uint8)
            rgba[..., 1] = (200 * pos ** 2).astype(np.uint8)
            rgba[..., 2] = (255 * neg).astype(np.uint8)
            rgba[..., 3] = (230 * np.sqrt(np.maximum(pos, neg))).astype(np.uint8)  # weak parts still show
            rgba = np.ascontiguousarray(rgba)
            self.overlay = QImage(rgba.data, heat.shape[1], heat.shape[0], heat.shape[1] * 4,
                                  QImage.Format.Format_RGBA8888).copy()  # owns its pixels
        self.update()

    # ---- drawing ------------------------------------------------------------------------------
    def _target(self) -> QRectF:
        """Where the bitmap is painted: the largest rectangle of its shape, centred."""
        s = min(self.width() / self.image.width(), self.height() / self.image.height())
        w, h = self.image.width() * s, self.image.height() * s
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def _to_image(self, pos) -> QPointF:
        r = self._target()
        return QPointF((pos.x() - r.x()) * self.image.width() / r.width(),
                       (pos.y() - r.y()) * self.image.height() / r.height())

    def _line(self, a: QPointF, b: QPointF) -> None:
        p = QPainter(self.image)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        width = STROKE * self.image.width() / self.input_size[1]
        p.setPen(QPen(QColor("white"), width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                      Qt.PenJoinStyle.RoundJoin))
        p.drawLine(a, b)
        p.end()
        self.update()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._last = self._to_image(event.position())
            self.overlay = None
            self.blank = False
            self._line(self._last, self._last)

    def mouseMoveEvent(self, event) -> None:
        if self._last is not None:
            here = self._to_image(event.position())
            self._line(self._last, here)
            self._last = here

    def mouseReleaseEvent(self, event) -> None:
        if self._last is not None and event.button() == Qt.MouseButton.LeftButton:
            self._last = None
            self.strokes += 1
            self.stroke_done.emit()

    def dragEnterEvent(self, event) -> None:
        if self.isEnabled() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.file_dropped.emit(files[0])

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        r = self._target()
        p.drawImage(r, self.image)
        if self.overlay is not None:
            p.drawImage(r, self.overlay)  # one cell per input value, scaled up without smoothing
        p.setPen(QColor(90, 90, 90))
        p.drawRect(r.adjusted(0, 0, -1, -1))
        if self.blank and self.isEnabled():  # the instruction where the hand goes (the caption may
            p.setPen(QColor(150, 150, 150))   # be below the fold of a short dock)
            p.drawText(r, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, HINT)
        p.end()


class PictureBox(QWidget):
    """A picture (an autoencoder's reconstruction) painted as large as fits, one block per value."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMinimumSize(100, 100)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.picture: QImage | None = None

    def set_picture(self, picture: QImage | None) -> None:
        self.picture = picture
        self.update()

    def paintEvent(self, _event) -> None:
        if self.picture is None or self.picture.isNull():
            return
        p = QPainter(self)
        s = min(self.width() / self.picture.width(), self.height() / self.picture.height())
        w, h = self.picture.width() * s, self.picture.height() * s
        r = QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)
        p.drawImage(r, self.picture)
        p.setPen(QColor(90, 90, 90))
        p.drawRect(r.adjusted(0, 0, -1, -1))
        p.end()


def read_picture(path: str, light_ink_on_black: bool = False) -> tuple[QImage | None, str]:
    """The picture file `path` (opened or dropped on the canvas), or None and why: a file that is not
    one (or is cut short, or would unpack past Qt's allocation limit) is said with the reader's reason.
    `light_ink_on_black`: a grey data set of light ink on black (the digits): the picture in grey, a
    dark-on-paper one inverted."""
    reader = QImageReader(path)
    size, limit = reader.size(), QImageReader.allocationLimit()  # limit: MB, Qt's guard against bombs
    if size.isValid() and limit and size.width() * size.height() * 4 > limit * 2 ** 20:
        return None, (f"{path}: a picture of {size.width()} x {size.height()} pixels, more than the "
                      f"{limit} MB Qt unpacks; open a smaller one.")
    picture = reader.read()
    if picture.isNull():
        return None, (f"{path}: not a picture this program can read ({reader.errorString()}); "
                      "open a PNG, JPEG, BMP or GIF file.")
    if light_ink_on_black:
        grey = picture.convertToFormat(QImage.Format.Format_Grayscale8)
        if _mean(grey) > 127:  # dark ink on paper: turn it into the data set's light ink on black
            grey.invertPixels()
        picture = grey
    return picture, ""


def _mean(grey: QImage) -> float:
    w, h, stride = grey.width(), grey.height(), grey.bytesPerLine()
    return float(np.frombuffer(grey.constBits(), np.uint8, count=stride * h).reshape(h, stride)[:, :w].mean())
