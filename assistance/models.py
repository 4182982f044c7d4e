# Assistance measures, plans and risk elimination arrive with their issue.
