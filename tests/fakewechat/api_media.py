"""Media and drafts for mass sends: ``POST /cgi-bin/media/upload`` (temporary),
``POST /cgi-bin/material/add_material`` (permanent), ``POST /cgi-bin/draft/add``.

Real-platform rules mimicked:
- uploads are multipart with a ``media`` file part (41005 without it) and
  ``?type=image|voice|video|thumb`` (40004 otherwise); the answer carries a
  ``media_id`` (``material/add_material`` also a ``url`` for images);
- a mass ``mpnews`` takes the media_id of a draft: ``draft/add`` {articles: [1..8
  articles with title, content and, for ``article_type`` news (the default), the
  ``thumb_media_id`` of a permanent material]} answers ``{"media_id": …}``; an
  unknown thumb -> 40007, no articles or a missing title/content -> 44003/44004;
- ``GET /cgi-bin/media/get?media_id=`` serves a temporary media (uploaded, or
  sent by a simulated user) as its file with its content type; a video answers
  ``{"video_url": …}`` instead (as WeChat does); an unknown, permanent or expired
  (over 3 days) media_id -> 40007;
- Python shortcuts for tests: ``acc.add_media(media_type, media_id=None,
  permanent=True, content=None, content_type=None)``, ``acc.add_draft(articles=None)``.
"""

from email.parser import BytesParser

from .api_token import authenticate
from .errors import WeChatError
from .web import Reply

MEDIA_TYPES = ("image", "voice", "video", "thumb")
TEMPORARY_SECONDS = 3 * 24 * 3600
# A 1x1 PNG, the content of simulated images.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
DEFAULT_CONTENT = {
    "image": (TINY_PNG, "image/png"),
    "thumb": (TINY_PNG, "image/jpeg"),
    "voice": (b"#!AMR\n" + b"\x00" * 64, "audio/amr"),
    "video": (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, "video/mp4"),
}


def _media_part(req):
    """``(content, content type, filename)`` of the multipart ``media`` part, or None."""
    content_type = req.headers.get("Content-Type") or ""
    message = BytesParser().parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + (req.body or b""))
    if not message.is_multipart():
        return None
    for part in message.get_payload():
        if part.get_param("name", header="content-disposition") == "media":
            return part.get_payload(decode=True) or b"", part.get_content_type(), part.get_filename()
    return None


def _upload(fake, req, permanent):
    acc = authenticate(fake, req)
    media_type = req.query.get("type")
    if media_type not in MEDIA_TYPES:
        raise WeChatError(40004)
    content_type = req.headers.get("Content-Type") or ""
    if not content_type.startswith("multipart/form-data") or b'name="media"' not in (req.body or b""):
        raise WeChatError(41005)
    part = _media_part(req)
    if part is None or not part[0]:
        raise WeChatError(41005)
    media_id = acc._media_id()
    acc.media[media_id] = {
        "type": media_type,
        "permanent": permanent,
        "t": fake.now(),
        "content": part[0],
        "content_type": part[1],
        "filename": part[2],
    }
    return acc, media_type, media_id


def media_upload(fake, req):
    _acc, media_type, media_id = _upload(fake, req, permanent=False)
    return {"type": media_type, "media_id": media_id, "created_at": int(fake.now())}


def add_material(fake, req):
    _acc, media_type, media_id = _upload(fake, req, permanent=True)
    out = {"media_id": media_id}
    if media_type == "image":
        out["url"] = f"http://mmbiz.qpic.cn/fake/{media_id[:16]}/0"
    return out


def temporary_media(fake, acc, media_id, media_type=None):
    """The temporary media ``media_id`` WeChat still keeps (of ``media_type``), else 40007."""
    media = acc.media.get(media_id or "")
    if media is None or media["permanent"] or fake.now() - media["t"] > TEMPORARY_SECONDS:
        raise WeChatError(40007)
    if media_type and media["type"] != media_type:
        raise WeChatError(40007)
    return media


def media_get(fake, req):
    acc = authenticate(fake, req)
    media = temporary_media(fake, acc, req.query.get("media_id"))
    if media["type"] == "video":
        return {"video_url": f"http://fake-video.wechat.invalid/{req.query['media_id'][:16]}.mp4"}
    content, content_type = media.get("content"), media.get("content_type")
    if content is None:
        content, content_type = DEFAULT_CONTENT[media["type"]]
    return Reply(content, 200, content_type)


def draft_add(fake, req):
    acc = authenticate(fake, req)
    articles = req.json().get("articles")
    if not isinstance(articles, list) or not 1 <= len(articles) <= 8:
        raise WeChatError(44003)
    for article in articles:
        if not isinstance(article, dict) or not article.get("title") or not article.get("content"):
            raise WeChatError(44004)
        if article.get("article_type", "news") == "news":
            thumb = acc.media.get(article.get("thumb_media_id") or "")
            if thumb is None or not thumb["permanent"]:
                raise WeChatError(40007)
    media_id = acc._media_id()
    acc.drafts[media_id] = {"articles": articles, "t": fake.now()}
    return {"media_id": media_id}


ROUTES = [
    ("POST", "/cgi-bin/media/upload", media_upload),
    ("GET", "/cgi-bin/media/get", media_get),
    ("POST", "/cgi-bin/material/add_material", add_material),
    ("POST", "/cgi-bin/draft/add", draft_add),
]
