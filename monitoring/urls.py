from django.urls import path

from monitoring.views import (
    accounting,
    alerts,
    appeals,
    cadre,
    campaigns,
    comparisons,
    exports,
    households,
    imports,
    leads,
    notices,
    rosters,
    screening,
    targets,
)
from monitoring.views import calendar as calendar_views
from monitoring.views import followups as followup_views
from monitoring.views import household_changes as changes
from monitoring.views import province_parameters as province_params
from monitoring.views.posters import village_poster_view
from monitoring.views.regions import region_typeahead_view

app_name = "monitoring"

urlpatterns = [
    path("households/", households.household_list, name="household_list"),
    path("households/<int:pk>/", households.household_detail_view, name="household_detail"),
    path("members/<int:pk>/id-number/", households.member_id_number, name="member_id_number"),
    path("members/<int:pk>/restore/", households.member_restore_view, name="member_restore"),
    # Suggestions for the 村 and 乡镇/村 filters (htmx typeahead; the pages list no villages)
    path("regions/typeahead/", region_typeahead_view, name="region_typeahead"),
    # Review workflow: 核实, 审核, 确定 and 公示
    path("leads/", leads.lead_queue_view, name="lead_queue"),
    path("leads/bulk/", leads.leads_bulk_view, name="leads_bulk"),
    path("leads/export.xlsx", leads.leads_export_view, name="leads_export"),
    path("leads/<int:pk>/", leads.lead_detail_view, name="lead_detail"),
    path("leads/<int:pk>/consent-scan/", leads.lead_consent_scan_view, name="lead_consent_scan"),
    path("leads/<int:pk>/appeal/", appeals.lead_appeal_view, name="lead_appeal"),
    # 办理时限: 受理, the working-day calendar, each province's time limits
    path("leads/<int:pk>/accept/", calendar_views.lead_accept_view, name="lead_accept"),
    path("calendar/", calendar_views.calendar_view, name="calendar"),
    path("calendar/import/", calendar_views.calendar_import_view, name="calendar_import"),
    path("calendar/previews/<int:pk>/", calendar_views.calendar_preview_view, name="calendar_preview"),
    path(
        "calendar/previews/<int:pk>/confirm/",
        calendar_views.calendar_preview_confirm_view,
        name="calendar_preview_confirm",
    ),
    path(
        "calendar/previews/<int:pk>/cancel/",
        calendar_views.calendar_preview_cancel_view,
        name="calendar_preview_cancel",
    ),
    path("calendar/template.xlsx", calendar_views.calendar_template_view, name="calendar_template"),
    path("procedure/", calendar_views.procedure_settings_view, name="procedure_settings"),
    # 家庭收支核算 of the 12 months before the application / lead (before lead_act: not an action)
    path("leads/<int:pk>/accounting/", accounting.lead_accounting_view, name="lead_accounting"),
    # 信息比对: the household's 承诺授权 before 入户核实, the county's result per source
    path("leads/<int:pk>/consent/", comparisons.lead_consent_view, name="lead_consent"),
    path("leads/<int:pk>/comparisons/<str:source>/", comparisons.lead_comparison_view, name="lead_comparison"),
    path("leads/<int:pk>/<str:action>/", leads.lead_act_view, name="lead_act"),
    path("publicity/<str:code>/", leads.publicity_view, name="publicity"),
    path("publicity/<str:code>/xlsx/", leads.publicity_xlsx_view, name="publicity_xlsx"),
    path("targets/", targets.target_list_view, name="target_list"),
    path("targets/export.xlsx", targets.targets_export_view, name="targets_export"),
    path("targets/<int:pk>/", targets.target_detail_view, name="target_detail"),
    # 绿色通道补办: what a 县级直接确定 still owes (入户核实, 民主评议, 公示)
    path("followups/", followup_views.followup_list_view, name="followups"),
    path("followups/<int:pk>/", followup_views.followup_detail_view, name="followup"),
    path(
        "followups/<int:pk>/county-review/",
        followup_views.followup_county_review_view,
        name="followup_county_review",
    ),
    path("followups/<int:pk>/<str:step>/", followup_views.followup_record_view, name="followup_record"),
    # Department alerts
    path("alerts/", alerts.alert_list, name="alert_list"),
    # 民政 rosters (低保, 特困, 低保边缘, 刚性支出困难) and the dashboard's two work lists
    path("rosters/", rosters.roster_list, name="roster_list"),
    path("rosters/uncovered/", rosters.roster_uncovered, name="roster_uncovered"),
    path("rosters/unvisited/", rosters.roster_unvisited, name="roster_unvisited"),
    # Excel import and export
    path("households/export/", imports.household_export, name="household_export"),
    # Large browser exports run as jobs (SPEC §7)
    path("exports/", exports.export_list, name="export_list"),
    path("exports/<int:pk>/", exports.export_detail, name="export_detail"),
    path("exports/<int:pk>/download/", exports.export_download, name="export_download"),
    path("imports/", imports.import_list, name="import_list"),
    path("imports/<int:pk>/", imports.import_detail, name="import_detail"),
    path("imports/<int:pk>/confirm/", imports.import_confirm, name="import_confirm"),
    path("imports/<int:pk>/annotated/", imports.import_annotated, name="import_annotated"),
    path("imports/templates/<str:kind>/", imports.import_template, name="import_template"),
    # Screening
    path("screening/", screening.screening_home, name="screening"),
    path("screening/runs/<int:pk>/", screening.screening_run, name="screening_run"),
    path("parameters/", screening.parameters, name="parameters"),
    path("parameters/preview/", screening.parameters_preview, name="parameters_preview"),
    path("parameters/accounting/", accounting.accounting_settings_view, name="accounting_settings"),
    path("parameters/provinces/", province_params.province_parameters_list, name="province_parameters"),
    path(
        "parameters/provinces/<str:code>/",
        province_params.province_parameters_edit,
        name="province_parameters_edit",
    ),
    path(
        "parameters/provinces/<str:code>/preview/",
        province_params.province_parameters_preview,
        name="province_parameters_preview",
    ),
    # Village cadres: visits, applications, offline PWA
    path("cadre/", cadre.cadre_home_view, name="cadre_home"),
    path("cadre/visits/new/", cadre.visit_new_view, name="visit_new"),
    path("cadre/applications/new/", cadre.application_new_view, name="application_new"),
    path("cadre/sw.js", cadre.service_worker_view, name="cadre_sw"),
    path("applications/", cadre.application_list_view, name="application_list"),
    # Village QR posters to the self-report page (帮扶明白卡 live in assistance)
    path("posters/<str:code>/", village_poster_view, name="village_poster"),
    path("applications/<int:pk>/match/", cadre.application_match_view, name="application_match"),
    # Notices to households and 帮扶责任人; a household's consent to them
    path("notices/", notices.notice_list_view, name="notice_list"),
    path("households/<int:pk>/notices/", notices.notice_preference_view, name="notice_preference"),
    # Household changes reviewed by the county (分户, 合户, 成员迁移, 户类型, 死亡或注销) and likely duplicates
    path("household-changes/", changes.household_change_list_view, name="household_changes"),
    path("household-changes/duplicates/", changes.duplicate_persons_view, name="duplicate_persons"),
    path(
        "household-changes/<int:pk>/<str:action>/",
        changes.household_change_decide_view,
        name="household_change_decide",
    ),
    # 回头看 and yearly 信息采集 campaigns: tasks per village, completion per township and village
    path("campaigns/", campaigns.campaign_list_view, name="campaigns"),
    path("campaigns/new/", campaigns.campaign_start_view, name="campaign_start"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail_view, name="campaign"),
    path("campaigns/<int:pk>/close/", campaigns.campaign_close_view, name="campaign_close"),
    path("campaigns/<int:pk>/export.xlsx", campaigns.campaign_xlsx_view, name="campaign_xlsx"),
    path("campaigns/<int:pk>/villages/<str:code>/", campaigns.campaign_village_view, name="campaign_village"),
]
