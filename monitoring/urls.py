from django.urls import path

from monitoring.views import households

app_name = "monitoring"

urlpatterns = [
    path("households/", households.household_list, name="household_list"),
    path("households/<int:pk>/", households.household_detail_view, name="household_detail"),
]

from monitoring.views import screening  # noqa: E402

urlpatterns += [
    path("screening/", screening.screening_home, name="screening"),
    path("screening/runs/<int:pk>/", screening.screening_run, name="screening_run"),
    path("parameters/", screening.parameters, name="parameters"),
    path("parameters/preview/", screening.parameters_preview, name="parameters_preview"),
]
