from django.urls import path

from monitoring.views import households

app_name = "monitoring"

urlpatterns = [
    path("households/", households.household_list, name="household_list"),
    path("households/<int:pk>/", households.household_detail_view, name="household_detail"),
    path("members/<int:pk>/id-number/", households.member_id_number, name="member_id_number"),
]

from monitoring.views import imports  # noqa: E402

urlpatterns += [
    path("households/export/", imports.household_export, name="household_export"),
    path("imports/", imports.import_list, name="import_list"),
    path("imports/<int:pk>/", imports.import_detail, name="import_detail"),
    path("imports/<int:pk>/confirm/", imports.import_confirm, name="import_confirm"),
    path("imports/<int:pk>/annotated/", imports.import_annotated, name="import_annotated"),
    path("imports/templates/<str:kind>/", imports.import_template, name="import_template"),
]

from monitoring.views import screening  # noqa: E402

urlpatterns += [
    path("screening/", screening.screening_home, name="screening"),
    path("screening/runs/<int:pk>/", screening.screening_run, name="screening_run"),
    path("parameters/", screening.parameters, name="parameters"),
    path("parameters/preview/", screening.parameters_preview, name="parameters_preview"),
]
