from django.urls import path

from monitoring.views import households, leads, targets

app_name = "monitoring"

urlpatterns = [
    path("households/", households.household_list, name="household_list"),
    path("households/<int:pk>/", households.household_detail_view, name="household_detail"),
    # Review workflow (issue 5)
    path("leads/", leads.lead_queue_view, name="lead_queue"),
    path("leads/bulk/", leads.leads_bulk_view, name="leads_bulk"),
    path("leads/export.xlsx", leads.leads_export_view, name="leads_export"),
    path("leads/<int:pk>/", leads.lead_detail_view, name="lead_detail"),
    path("leads/<int:pk>/consent-scan/", leads.lead_consent_scan_view, name="lead_consent_scan"),
    path("leads/<int:pk>/<str:action>/", leads.lead_act_view, name="lead_act"),
    path("publicity/<str:code>/", leads.publicity_view, name="publicity"),
    path("publicity/<str:code>/xlsx/", leads.publicity_xlsx_view, name="publicity_xlsx"),
    path("targets/", targets.target_list_view, name="target_list"),
    path("targets/export.xlsx", targets.targets_export_view, name="targets_export"),
    path("targets/<int:pk>/", targets.target_detail_view, name="target_detail"),
]
