import io

import qrcode


def qr_png(content, box_size=8):
    """PNG bytes of a QR code of ``content`` (rendered locally with ``qrcode``)."""
    image = qrcode.make(content, box_size=box_size, border=2)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()
