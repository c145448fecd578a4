"""Words of the fleet memory-trend review, per language (the incident report's are in labels.py).

Sentences with numbers are templates filled with `str.format` by the report template.
"""

from __future__ import annotations

FR: dict[str, str] = {
    "title": "Revue des tendances mémoire de la flotte",
    "window": "Fenêtre",
    "days": "jours",
    "until": "jusqu'au",
    "selector": "Sélecteur",
    "all_series": "toutes les séries",
    "requests": "Requêtes Prometheus",
    "detailed": "séries relues à pleine résolution (les autres à l'heure)",
    "summary": "Synthèse",
    "reviewed": "{hosts} hôtes passés en revue ({series} séries mémoire et swap).",
    "worrying": "{count} fuient ou croissent.",
    "none_worrying": "Aucun ne fuit ni ne croît de façon significative.",
    "soonest": "Épuisement le plus proche : {instance} ({kind}) le {when}, dans {days} jours.",
    "no_exhaustion": "Aucun épuisement prévu dans l'horizon de {days} jours.",
    "incidents_linked": "{count} incidents PagerDuty de la fenêtre reliés aux hôtes.",
    "incidents_not_linked": "Incidents PagerDuty non reliés (voir Données manquantes).",
    "ranked": "Classement par urgence",
    "ranked_note": "Les {shown} premières séries sur {total} ; toutes sont dans hosts.csv.",
    "col_rank": "#",
    "col_instance": "Instance",
    "col_kind": "Type",
    "col_verdict": "Verdict",
    "col_current": "Actuel",
    "col_peak": "Pic",
    "col_growth": "Croissance /jour [IC 95 %]",
    "col_exhaustion": "Épuisement",
    "col_restarts": "Redémarrages",
    "col_incidents": "Incidents",
    "col_wow": "Sem./sem.",
    "beyond": "au-delà de l'horizon",
    "charts": "Les {n} plus urgents",
    "charts_note": (
        "Courbe : % utilisé ; trait : tendance ajustée et son intervalle ; pointillés : projection"
        " jusqu'à 100 % ; traits verticaux gris : redémarrages ; triangles rouges : incidents."
    ),
    "heatmap": "Carte de chaleur de la flotte",
    "heatmap_note": (
        "Moyenne quotidienne du % utilisé, un hôte par ligne, les plus urgents en haut ; gris :"
        " aucune mesure ce jour-là (hôte pas encore là, ou retiré)."
    ),
    "wow": "Évolution d'une semaine sur l'autre",
    "wow_note": "Moyenne des 7 derniers jours moins celle des 7 précédents, en points.",
    "col_change": "Variation (points)",
    "actions": "Actions suggérées",
    "action_leak": (
        "{instance} ({kind}) fuit ({rate} %/jour entre redémarrages, {restarts} redémarrages) :"
        " chercher la fuite (profil mémoire) ou planifier des redémarrages"
    ),
    "action_growing": (
        "{instance} ({kind}) croît de {rate} %/jour : vérifier le dernier déploiement ou"
        " augmenter la mémoire avant l'épuisement"
    ),
    "action_high": (
        "{instance} ({kind}) reste au-dessus de {level} % : redimensionner ou répartir la charge"
    ),
    "action_incidents": "{instance} ({kind}) a causé {count} incidents : relire leurs post-mortems",
    "owner": "responsable",
    "date": "date",
    "no_action": "Rien à signaler cette fois.",
    "leak": "fuite",
    "growing": "croissance",
    "level shift": "changement de palier",
    "cyclic": "cyclique",
    "high": "élevé",
    "steady": "stable",
    "memory": "mémoire",
    "swap": "swap",
    "chart_title": "{instance} — {kind} — {verdict}",
    "heatmap_title": "{title} : moyenne quotidienne (%)",
    "heatmap_top": "{title} : les {shown} hôtes les plus urgents sur {total} (tous dans hosts.csv)",
    "fleet_spread": "Toute la flotte : médiane, 90e centile et maximum quotidiens",
    "percent_used": "% utilisé",
    "spread_p50": "médiane",
    "spread_p90": "90e centile",
    "spread_max": "maximum",
    "incident": "incident",
    "reset": "redémarrage",
}

EN: dict[str, str] = {
    "title": "Fleet memory-trend review",
    "window": "Window",
    "days": "days",
    "until": "until",
    "selector": "Selector",
    "all_series": "every series",
    "requests": "Prometheus requests",
    "detailed": "series reviewed at full resolution (the others hourly)",
    "summary": "Summary",
    "reviewed": "{hosts} hosts reviewed ({series} memory and swap series).",
    "worrying": "{count} leaking or growing.",
    "none_worrying": "None leaks or grows significantly.",
    "soonest": "Soonest exhaustion: {instance} ({kind}) on {when}, in {days} days.",
    "no_exhaustion": "No exhaustion forecast within the {days}-day horizon.",
    "incidents_linked": "{count} PagerDuty incidents of the window linked to hosts.",
    "incidents_not_linked": "PagerDuty incidents not linked (see Missing data).",
    "ranked": "Ranked by urgency",
    "ranked_note": "The first {shown} series of {total}; hosts.csv has them all.",
    "col_rank": "#",
    "col_instance": "Instance",
    "col_kind": "Kind",
    "col_verdict": "Verdict",
    "col_current": "Current",
    "col_peak": "Peak",
    "col_growth": "Growth /day [95 % CI]",
    "col_exhaustion": "Exhaustion",
    "col_restarts": "Restarts",
    "col_incidents": "Incidents",
    "col_wow": "Wk/wk",
    "beyond": "beyond the horizon",
    "charts": "The {n} most urgent",
    "charts_note": (
        "Line: % used; solid: fitted trend and its interval; dotted: projection to 100 %;"
        " grey verticals: restarts; red triangles: incidents."
    ),
    "heatmap": "Fleet heatmap",
    "heatmap_note": (
        "Daily average % used, one host per row, the most urgent at the top; grey: no sample"
        " that day (host not there yet, or gone)."
    ),
    "wow": "Week-over-week change",
    "wow_note": "Mean of the last 7 days minus the 7 before, in points.",
    "col_change": "Change (points)",
    "actions": "Suggested actions",
    "action_leak": (
        "{instance} ({kind}) leaks ({rate} %/day between restarts, {restarts} restarts): find the"
        " leak (heap profile) or schedule restarts"
    ),
    "action_growing": (
        "{instance} ({kind}) grows {rate} %/day: check the last deploy or add memory before it"
        " runs out"
    ),
    "action_high": "{instance} ({kind}) stays above {level} %: resize it or spread the load",
    "action_incidents": "{instance} ({kind}) caused {count} incidents: read their post-mortems",
    "owner": "owner",
    "date": "date",
    "no_action": "Nothing to act on this time.",
    "leak": "leak",
    "growing": "growing",
    "level shift": "level shift",
    "cyclic": "cyclic",
    "high": "high",
    "steady": "steady",
    "memory": "memory",
    "swap": "swap",
    "chart_title": "{instance} — {kind} — {verdict}",
    "heatmap_title": "{title}: daily average (%)",
    "heatmap_top": "{title}: the {shown} most urgent hosts of {total} (all in hosts.csv)",
    "fleet_spread": "Whole fleet: daily median, 90th percentile and maximum",
    "percent_used": "% used",
    "spread_p50": "median",
    "spread_p90": "90th percentile",
    "spread_max": "maximum",
    "incident": "incident",
    "reset": "restart",
}

FLEET_LABELS: dict[str, dict[str, str]] = {"fr": FR, "en": EN}
