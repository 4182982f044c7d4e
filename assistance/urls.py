from django.urls import path

from assistance.views import announcements, cards, elimination, plans

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
    # 帮扶明白卡: one target's card, a village's batch (page and PDF), the villages to print for
    path("targets/<int:pk>/card/", cards.card_view, name="card"),
    path("targets/<int:pk>/card.pdf", cards.card_pdf_view, name="card_pdf"),
    path("cards/", cards.card_villages_view, name="card_villages"),
    path("cards/<str:code>/", cards.village_cards_view, name="village_cards"),
    path("cards/<str:code>/cards.pdf", cards.village_cards_pdf_view, name="village_cards_pdf"),
    path("elimination/<int:pk>/", elimination.proposal_detail, name="proposal_detail"),
    path("elimination/<int:pk>/act/", elimination.proposal_act, name="proposal_act"),
    # 风险消除 village steps (入户核实 for older proposals, 民主评议, 公示) and the village's 公示名单
    path("elimination/<int:pk>/home-check/", elimination.home_check, name="elimination_home_check"),
    path("elimination/<int:pk>/appraisal/", elimination.appraisal, name="elimination_appraisal"),
    path("elimination/<int:pk>/publicity/", elimination.publicity_record, name="elimination_publicity_record"),
    path("elimination/publicity/<str:code>/", elimination.publicity, name="elimination_publicity"),
    path("elimination/publicity/<str:code>/xlsx/", elimination.publicity_xlsx, name="elimination_publicity_xlsx"),
    # 公告 of a township and period (identification, elimination, 不予纳入 where the province asks)
    path("announcements/", announcements.announcements_view, name="announcements"),
    path("announcements/<str:code>/", announcements.announcement_view, name="announcement"),
    path("announcements/<str:code>/xlsx/", announcements.announcement_xlsx_view, name="announcement_xlsx"),
]
