from django.urls import path

from assistance.views import elimination, plans

app_name = "assistance"

urlpatterns = [
    path("", plans.plan_list, name="plan_list"),
    path("targets/<int:pk>/", plans.target_plan, name="target_plan"),
    path("targets/<int:pk>/measures/add/", plans.measure_add_view, name="measure_add"),
    path("targets/<int:pk>/propose/", elimination.propose, name="elimination_propose"),
    path("measures/", plans.measure_list, name="measure_list"),
    path("measures/<int:pk>/progress/", plans.measure_progress, name="measure_progress"),
    path("measures/<int:pk>/edit/", plans.measure_edit, name="measure_edit"),
    path("unassisted/", plans.unassisted, name="unassisted"),
    path("elimination/", elimination.elimination_list, name="elimination_list"),
    path("elimination/<int:pk>/", elimination.proposal_detail, name="proposal_detail"),
    path("elimination/<int:pk>/act/", elimination.proposal_act, name="proposal_act"),
]
