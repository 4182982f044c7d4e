"""DRF authentication and throttling by hashed API token (other systems, e.g. a department's).

Header form unchanged from rest_framework.authtoken: ``Authorization: Token <key>``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, throttling
from rest_framework.request import Request

from fanpin.core.api_tokens import token_authenticate
from fanpin.core.models import ApiToken


class HashedTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("令牌格式错误：应为“Token <密钥>”。")
        try:
            key = parts[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("令牌包含无效字符。") from exc
        token = token_authenticate(key=key)
        if token is None:
            raise exceptions.AuthenticationFailed("令牌无效或已吊销。")
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class TokenRateThrottle(throttling.SimpleRateThrottle):
    """One rate per token (setting ``DEFAULT_THROTTLE_RATES["token"]``); sessions are not throttled."""

    scope = "token"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class HashedTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "fanpin.web.authentication.HashedTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "API 令牌：请求头 `Authorization: Token <密钥>`（在“API 令牌”页面创建，只显示一次）。",
        }
