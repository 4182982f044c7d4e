from django.urls import path

from monitoring.views import households

app_name = "monitoring"

urlpatterns = [
    path("households/", households.household_list, name="household_list"),
    path("households/<int:pk>/", households.household_detail_view, name="household_detail"),
    path("members/<int:pk>/id-number/", households.member_id_number, name="member_id_number"),
]
