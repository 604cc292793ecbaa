"""The answer bot's event types (dotted, past tense, never renamed)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.core.events import register

BOT_ANSWERED = register("bot.answered", _("Bot answered “{question}” with article {title}"))
BOT_HANDED_OFF = register("bot.handed_off", _("Bot handed “{question}” to a person (ticket {number})"))
BOT_TUNING_RESOLVED = register(
    "bot.tuning_resolved", _("Bot tuning: {count} question(s) resolved ({resolution})")
)
BOT_SETTINGS_CHANGED = register("bot.settings_changed", _("Bot settings changed: {fields}"))
