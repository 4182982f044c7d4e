"""How a notice leaves the system: one sender per channel, chosen by ``NOTICE_SENDER``.

* ``log`` (default): the notice is written to the application log (masked) and recorded as sent;
  nothing leaves the machine, so the demo and an office without a gateway work as before.
* ``sms``: an HTTP SMS gateway.  ``POST NOTICE_SMS_URL`` with the JSON body
  ``{"phone": …, "text": "【签名】…", "template": "RECEIVED"}`` and ``Authorization: Bearer NOTICE_SMS_KEY``;
  a 2xx answer whose JSON ``code`` is absent, ``0`` or ``"OK"`` is a success, anything else a failure
  (retried).  Most provinces' government SMS platforms, or a small adapter in front of a commercial
  one, speak this shape.
* ``wechat``: a WeChat official account's template message (``POST NOTICE_WECHAT_URL?access_token=…``
  with ``touser``/``template_id``/``data``), the access token fetched from ``NOTICE_WECHAT_TOKEN_URL``
  with ``NOTICE_WECHAT_APPID``/``NOTICE_WECHAT_SECRET`` and kept in the cache until it expires;
  ``errcode`` 0 is a success.

Senders raise ``SendFailed`` with a short Chinese reason (kept on the notice row, never the
address); they never write to the database.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from fanpin.core.idcard import phone_mask
from monitoring.models import NoticeChannel

logger = logging.getLogger("fanpin.notices")

SENDER_CHANNELS = {"log": NoticeChannel.LOG, "sms": NoticeChannel.SMS, "wechat": NoticeChannel.WECHAT}


class SendFailed(Exception):
    """The gateway refused or could not be reached; the message says why (no address in it)."""


@dataclass(frozen=True)
class Message:
    address: str  # a phone number (log, SMS) or a WeChat openid
    text: str
    kind: str  # NoticeKind code
    kind_label: str


class Sender(Protocol):
    def send(self, message: Message) -> None: ...


def _post_json(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    """POST ``body`` as JSON; the answer's JSON (``{}`` when it has none).  ``SendFailed`` on a
    network error, a timeout or a non-2xx status."""
    if not url.startswith(("http://", "https://")):
        raise SendFailed("通知网关地址未配置或无效。")
    data = json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url, data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    )
    return _answer(request)


def _answer(request: urllib.request.Request) -> dict[str, Any]:
    if not request.full_url.startswith(("http://", "https://")):  # never file:// or another scheme
        raise SendFailed("通知网关地址未配置或无效。")
    timeout = float(settings.NOTICE_HTTP_TIMEOUT)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310 - http(s) only, checked above
            raw = response.read(64 * 1024)
    except urllib.error.HTTPError as exc:
        raise SendFailed(f"通知网关返回 HTTP {exc.code}。") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SendFailed(f"无法连接通知网关（{type(reason).__name__}）。") from None
    try:
        answer = json.loads(raw.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return answer if isinstance(answer, dict) else {}


class LogSender:
    """Writes the notice to the log (phone masked) and reports success."""

    channel = NoticeChannel.LOG

    def send(self, message: Message) -> None:
        logger.info("通知（仅记录）%s → %s：%s", message.kind_label, phone_mask(message.address), message.text)


class SmsSender:
    channel = NoticeChannel.SMS

    def send(self, message: Message) -> None:
        sign = str(settings.NOTICE_SMS_SIGN)
        body = {"phone": message.address, "text": f"【{sign}】{message.text}" if sign else message.text}
        body["template"] = message.kind
        headers = {"Authorization": f"Bearer {settings.NOTICE_SMS_KEY}"} if settings.NOTICE_SMS_KEY else {}
        answer = _post_json(str(settings.NOTICE_SMS_URL), body, headers)
        code = answer.get("code", 0)
        if code not in (0, "0", "OK", "ok"):
            raise SendFailed(f"短信网关拒绝发送（code={str(code)[:40]}）。")


WECHAT_TOKEN_CACHE_KEY = "notices:wechat:access_token"  # noqa: S105 - a cache key, not a secret


class WechatSender:
    channel = NoticeChannel.WECHAT

    def _token(self) -> str:
        token = cache.get(WECHAT_TOKEN_CACHE_KEY)
        if token:
            return str(token)
        query = urllib.parse.urlencode(
            {
                "grant_type": "client_credential",
                "appid": settings.NOTICE_WECHAT_APPID,
                "secret": settings.NOTICE_WECHAT_SECRET,
            }
        )
        url = str(settings.NOTICE_WECHAT_TOKEN_URL)
        if not url.startswith(("http://", "https://")):
            raise SendFailed("微信接口地址未配置或无效。")
        answer = _answer(urllib.request.Request(f"{url}?{query}"))  # noqa: S310 - the scheme is checked above
        token = answer.get("access_token")
        if not token:
            raise SendFailed(f"获取微信 access_token 失败（errcode={str(answer.get('errcode', ''))[:20]}）。")
        cache.set(WECHAT_TOKEN_CACHE_KEY, token, timeout=max(int(answer.get("expires_in", 7200)) - 300, 60))
        return str(token)

    def send(self, message: Message) -> None:
        token = self._token()
        body = {
            "touser": message.address,
            "template_id": settings.NOTICE_WECHAT_TEMPLATE_ID,
            "data": {
                "first": {"value": message.kind_label},
                "keyword1": {"value": message.kind_label},
                "keyword2": {"value": f"{timezone.localdate():%Y-%m-%d}"},
                "remark": {"value": message.text},
            },
        }
        url = str(settings.NOTICE_WECHAT_URL)
        answer = _post_json(f"{url}?{urllib.parse.urlencode({'access_token': token})}", body)
        errcode = answer.get("errcode", 0)
        if errcode in (40001, 42001):  # token expired or revoked: fetch a new one on the retry
            cache.delete(WECHAT_TOKEN_CACHE_KEY)
        if errcode not in (0, "0"):
            raise SendFailed(f"微信模板消息发送失败（errcode={str(errcode)[:20]}）。")


SENDERS: dict[str, type[LogSender] | type[SmsSender] | type[WechatSender]] = {
    NoticeChannel.LOG: LogSender,
    NoticeChannel.SMS: SmsSender,
    NoticeChannel.WECHAT: WechatSender,
}


def configured_channel() -> str:
    """The channel ``NOTICE_SENDER`` chooses for new notices."""
    return str(SENDER_CHANNELS[str(settings.NOTICE_SENDER)])


def sender_for(channel: str) -> Sender:
    """The sender of a notice's channel (the one chosen when the notice was made)."""
    return SENDERS[channel]()
