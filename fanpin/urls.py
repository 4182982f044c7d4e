from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.text import format_lazy
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from assistance.views import dashboard
from fanpin.core.terms import term_lazy
from fanpin.web import views, views_tokens
from monitoring.views import public
from monitoring.views.cadre import self_report_view

admin.site.site_header = format_lazy("{} · 后台管理", term_lazy("system"))
admin.site.site_title = "fanpin 后台"
admin.site.index_title = "数据管理"

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/<slug:table>.xlsx", dashboard.dashboard_xlsx, name="dashboard_xlsx"),
    path("report/", self_report_view, name="self_report"),
    path("status/", public.status_view, name="status"),
    path("status/appeal/", public.status_appeal_view, name="status_appeal"),
    path("tokens/", views_tokens.token_list, name="token_list"),
    path("tokens/<int:pk>/revoke/", views_tokens.token_revoke_view, name="token_revoke"),
    path("monitoring/", include("monitoring.urls")),
    path("assistance/", include("assistance.urls")),
    path("api/v1/", include("fanpin.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
handler404 = "fanpin.web.errors.not_found"
