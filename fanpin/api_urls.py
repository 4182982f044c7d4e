"""/api/v1/: one router for every app's API views."""

from rest_framework.routers import DefaultRouter

from assistance.api.announcements import AnnouncementViewSet
from assistance.api.elimination import EliminationViewSet
from assistance.api.views import AssistanceViewSet
from monitoring.api.alerts import AlertViewSet, MedicalSettlementViewSet
from monitoring.api.comparisons import ComparisonViewSet
from monitoring.api.followups import FollowUpViewSet
from monitoring.api.leads import LeadViewSet, TargetViewSet
from monitoring.api.rosters import RosterViewSet
from monitoring.api.views import HouseholdViewSet, RegionViewSet
from monitoring.api.visits import ApplicationViewSet, VisitViewSet

router = DefaultRouter()
router.include_format_suffixes = False
router.register("regions", RegionViewSet, basename="region")
router.register("households", HouseholdViewSet, basename="household")
router.register("leads", LeadViewSet, basename="lead")
router.register("comparisons", ComparisonViewSet, basename="comparison")
router.register("targets", TargetViewSet, basename="target")
router.register("follow-ups", FollowUpViewSet, basename="follow-up")
router.register("visits", VisitViewSet, basename="visit")
router.register("applications", ApplicationViewSet, basename="application")
router.register("alerts", AlertViewSet, basename="alert")
router.register("medical-settlements", MedicalSettlementViewSet, basename="medical-settlement")
router.register("assistance", AssistanceViewSet, basename="assistance")
router.register("eliminations", EliminationViewSet, basename="elimination")
router.register("announcements", AnnouncementViewSet, basename="announcement")
router.register("assistance-rosters", RosterViewSet, basename="assistance-roster")

urlpatterns = router.urls
