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
- Python shortcuts for tests: ``acc.add_media(media_type, media_id=None,
  permanent=True)``, ``acc.add_draft(articles=None)``.
"""

from .api_token import authenticate
from .errors import WeChatError

MEDIA_TYPES = ("image", "voice", "video", "thumb")


def _upload(fake, req, permanent):
    acc = authenticate(fake, req)
    media_type = req.query.get("type")
    if media_type not in MEDIA_TYPES:
        raise WeChatError(40004)
    content_type = req.headers.get("Content-Type") or ""
    if not content_type.startswith("multipart/form-data") or b'name="media"' not in (req.body or b""):
        raise WeChatError(41005)
    media_id = acc._media_id()
    acc.media[media_id] = {"type": media_type, "permanent": permanent, "t": fake.now()}
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
    ("POST", "/cgi-bin/material/add_material", add_material),
    ("POST", "/cgi-bin/draft/add", draft_add),
]
