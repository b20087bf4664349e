"""The custom actions: every reply of the assistant is made here, from content and catalogs.

One small class per concern, in rasa_sdk's style. Each reads the conversation through
`build_context` and writes through `Reply`, which keeps the language slot current.
"""
from __future__ import annotations

import abc
import json
from typing import Any, Callable, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from welcomebot import settings
from welcomebot.content import CATEGORIES, category_of_intent
from welcomebot.i18n import N_, Translator, name_in, own_name, supported_languages, translator
from welcomebot.stats.record import record_fallback, record_feedback, record_question

from .context import ALL_TOWNS, Context, build_context
from .render import render_offer, topic_label

MAX_OFFERS = 5
URGENT = {"emergency"}  # answered at once, never after a question about the town


class Reply:
    """Collects what an action says and the slots it sets."""

    def __init__(self, dispatcher: CollectingDispatcher, ctx: Context) -> None:
        self.dispatcher, self.ctx = dispatcher, ctx
        self.language = ctx.language  # kept in a slot so that direct Rasa clients keep it too
        self._slots: list[dict[str, Any]] = []
        # The intent this turn is counted under in the statistics; None: not counted (a topic
        # question is counted when it is answered, i.e. after the town question, with the town).
        self.counted_intent: Optional[str] = ctx.intent or None

    def say(self, text: str, buttons: Optional[list[dict[str, str]]] = None) -> None:
        self.dispatcher.utter_message(text=text, buttons=buttons or [])

    def data(self, payload: dict[str, Any]) -> None:
        """Structured data for channels (offers' coordinates, the chosen language)."""
        self.dispatcher.utter_message(json_message={"welcomebot": payload})

    def set(self, slot: str, value: Any) -> None:
        self._slots.append(SlotSet(slot, value))

    @property
    def events(self) -> list[dict[str, Any]]:
        return [SlotSet("language", self.language), *self._slots]


def topics_button(_: Translator) -> dict[str, str]:
    return {"title": "📋 " + _("Topics"), "payload": "/help"}


def person_button(_: Translator) -> dict[str, str]:
    return {"title": "🙋 " + _("Talk to a person"), "payload": "/request_lotse"}


def feedback_buttons(_: Translator) -> list[dict[str, str]]:
    """Thumbs up/down under a topic answer; the payload reaches Rasa as intent `feedback`."""
    return [
        {"title": "👍 " + _("Helpful"), "payload": "/feedback" + json.dumps({"feedback": "up"})},
        {"title": "👎 " + _("Not helpful"), "payload": "/feedback" + json.dumps({"feedback": "down"})},
    ]


def menu_buttons(ctx: Context) -> list[dict[str, str]]:
    buttons = [{"title": topic_label(c, ctx._), "payload": f"/ask_{c}"} for c in CATEGORIES]
    buttons.append(person_button(ctx._))
    buttons.append({"title": "🌐 " + ctx._("Language"), "payload": "/change_language"})
    return buttons


def town_buttons(ctx: Context) -> list[dict[str, str]]:
    towns = [
        {"title": m.name.text(ctx.language), "payload": "/inform" + json.dumps({"municipality": m.id})}
        for m in ctx.content.district.municipalities
    ]
    towns.append({"title": ctx._("Another place"), "payload": "/inform" + json.dumps({"municipality": ALL_TOWNS})})
    return towns


def language_buttons() -> list[dict[str, str]]:
    return [
        {"title": own_name(code), "payload": "/change_language" + json.dumps({"language": code})}
        for code in supported_languages()
    ]


def office_text(ctx: Context) -> str:
    office = ctx.content.district.contact
    lines = [office.name.text(ctx.language), "📍 " + office.address.one_line()]
    if office.contact.phone:
        lines.append("📞 " + office.contact.phone)
    if office.contact.email:
        lines.append("✉️ " + office.contact.email)
    return "\n".join(lines)


class WelcomeAction(Action, abc.ABC):
    """Base: subclasses implement `name()` and `respond(reply, tracker)`."""

    @abc.abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        ctx = build_context(tracker)
        reply = Reply(dispatcher, ctx)
        self.respond(reply, tracker)
        if reply.counted_intent:
            # Every answered turn passes here exactly once: the one place that counts questions.
            record_question(ctx.now.date(), reply.language, ctx.municipality, reply.counted_intent)
        return reply.events

    @abc.abstractmethod
    def respond(self, reply: Reply, tracker: Tracker) -> None:
        """Say what the action says, through `reply`."""


class ActionAnswerTopic(WelcomeAction):
    """Offers of the topic's category for the newcomer's town and audience (SPEC §4, §5)."""

    def name(self) -> str:
        return "action_answer_topic"

    def respond(self, reply: Reply, tracker: Tracker) -> None:
        ctx = reply.ctx
        answering_question = ctx.intent == "inform"
        # A town given after an answer shows that answer's topic for the town: a newcomer who
        # moves on to another town, and a turn that a dying Rasa replica had already answered
        # when the gateway sent it again, both get the offers, not a bare "noted".
        remembered = tracker.get_slot("pending_topic") or tracker.get_slot("answered_topic")
        category = category_of_intent(ctx.intent) or (remembered if answering_question else None)
        if category not in CATEGORIES:
            self._town_noted(reply)
            return
        if category == "first_steps" and not answering_question:
            self._checklist(reply)
        if (ctx.municipality is None and category not in URGENT
                and ctx.content.category_is_local(category, ctx.now)):
            reply.say(ctx._("Which town do you live in? Then I can show you the offers near you."), town_buttons(ctx))
            reply.set("pending_topic", category)
            reply.counted_intent = None
            return
        reply.set("pending_topic", None)
        reply.counted_intent = f"ask_{category}"
        reply.set("answered_topic", category)  # what a thumbs up/down that follows rates
        self._offers(reply, category)

    def _checklist(self, reply: Reply) -> None:
        ctx = reply.ctx
        steps = ctx.content.first_steps
        if steps is None:
            return
        lines = [f"👋 {steps.title.text(ctx.language)}", steps.intro.text(ctx.language)]
        lines += [f"{n}. {s.title.text(ctx.language)}: {s.text.text(ctx.language)}" for n, s in enumerate(steps.steps, 1)]
        reply.say("\n".join(lines))

    def _offers(self, reply: Reply, category: str) -> None:
        ctx, _ = reply.ctx, reply.ctx._
        offers = ctx.content.offers_for(category, ctx.now, ctx.town_filter, ctx.audience)
        if category in URGENT:
            reply.say("🆘 " + _("In acute danger call 110 (police) or 112 (ambulance, fire brigade). Free of charge, day and night."))
        town = ctx.town_name()
        heading = topic_label(category, _) + (f" — {town}" if town else "")
        if not offers:
            reply.say(heading + "\n" + _("I have no offer on this topic for your town yet. The integration office can help you:") + "\n" + office_text(ctx),
                      feedback_buttons(_))
            return
        shown = offers[:MAX_OFFERS]
        reply.say(heading + "\n" + _.plural("I found %(n)d offer:", "I found %(n)d offers:", len(offers)))
        fallbacks: set[str] = set()
        for offer in shown:
            rendered = render_offer(offer, _, ctx.now)
            fallbacks |= rendered.fallback_languages
            reply.say(rendered.text)
        if fallbacks:
            names = ", ".join(name_in(code, ctx.language) for code in sorted(fallbacks))
            reply.say(_("Some of this is not yet available in %(language)s, so it is shown in %(fallback)s.",
                        language=name_in(ctx.language, ctx.language), fallback=names))
        if len(offers) > len(shown):
            reply.say(_.plural("There is %(n)d more offer. Ask me about something more specific, or contact the integration office.",
                               "There are %(n)d more offers. Ask me about something more specific, or contact the integration office.",
                               len(offers) - len(shown)))
        reply.data({"offers": [_offer_data(o, ctx) for o in shown], "topic": category})
        reply.say(_("Can I help you with anything else?"), [*feedback_buttons(_), topics_button(_), person_button(_)])

    def _town_noted(self, reply: Reply) -> None:
        ctx = reply.ctx
        town = ctx.town_name()
        text = ctx._("Thank you. I will show you offers for %(town)s.", town=town) if town else ctx._("Thank you. I will show you offers for the whole district.")
        reply.say(text + "\n" + ctx._("What would you like to know?"), menu_buttons(ctx))


def _offer_data(offer: Any, ctx: Context) -> dict[str, Any]:
    """What channels need to show an offer richly (map pins, call buttons)."""
    data: dict[str, Any] = {"id": offer.id, "title": offer.title.text(ctx.language), "category": offer.category}
    if offer.address:
        data["address"] = offer.address.one_line()
        if offer.address.lat is not None:
            data["lat"], data["lon"] = offer.address.lat, offer.address.lon
    if offer.contact.phone:
        data["phone"] = offer.contact.phone
    if offer.contact.url:
        data["url"] = offer.contact.url
    if offer.start:
        data["start"] = offer.start.isoformat()
    return data


class ActionGreet(WelcomeAction):
    def name(self) -> str:
        return "action_greet"

    def respond(self, reply: Reply, tracker: Tracker) -> None:
        ctx = reply.ctx
        district = ctx.content.district.name.text(ctx.language)
        reply.say(ctx._("Hello and welcome to %(district)s! I answer questions about life here, in your language.", district=district)
                  + "\n" + ctx._("I am a computer program. If you need a person, a volunteer mentor (Lotse) can help you."))
        reply.say(ctx._("What would you like to know? Tap a topic or write your question."), menu_buttons(ctx))


class OneReply(WelcomeAction):
    """An action that says one sentence from the catalogs, with buttons."""

    action_name: str = ""
    buttons: Callable[[Context], list[dict[str, str]]] = staticmethod(lambda ctx: [])

    @property
    @abc.abstractmethod
    def message(self) -> str:
        """The sentence, marked with N_ so that it is extracted into the catalogs."""

    def name(self) -> str:
        return self.action_name

    def respond(self, reply: Reply, tracker: Tracker) -> None:
        reply.say(reply.ctx._(self.message), self.buttons(reply.ctx))


class ActionHelp(OneReply):
    action_name = "action_help"
    message = N_("I can help you with these topics. Tap one or just write your question:")
    buttons = staticmethod(menu_buttons)


class ActionGoodbye(OneReply):
    action_name = "action_goodbye"
    message = N_("Goodbye and all the best! You can write to me at any time.")


class ActionThank(OneReply):
    action_name = "action_thank"
    message = N_("You are welcome! Can I help you with anything else?")
    buttons = staticmethod(lambda ctx: [topics_button(ctx._)])


class ActionAcknowledge(OneReply):
    """A yes or no with nothing pending."""

    action_name = "action_acknowledge"
    message = N_("All right. What else can I help you with?")
    buttons = staticmethod(menu_buttons)


class ActionBotChallenge(OneReply):
    action_name = "action_bot_challenge"
    message = N_("I am a computer program, not a person. My answers come from the offices and associations of the district.")
    buttons = staticmethod(lambda ctx: [person_button(ctx._)])


class ActionChangeLanguage(WelcomeAction):
    """Switches the conversation's language (SPEC §3: an explicit choice wins)."""

    def name(self) -> str:
        return "action_change_language"

    def respond(self, reply: Reply, tracker: Tracker) -> None:
        ctx = reply.ctx
        wanted = ctx.entity("language")
        if wanted and wanted in supported_languages():
            _ = translator(wanted)  # the answer is already in the new language
            reply.language = wanted
            reply.data({"language": wanted})
            reply.say(_("All right, from now on I will write in %(language)s.", language=name_in(wanted, wanted)),
                      [topics_button(_)])
            return
        if wanted:
            reply.say(ctx._("I cannot write in %(language)s yet. Please choose one of these languages:",
                            language=name_in(wanted, ctx.language)), language_buttons())
            return
        reply.say(ctx._("Which language would you like?"), language_buttons())


class ActionRequestLotse(WelcomeAction):
    """SPEC §7: before anything is shared, the newcomer is told what is shared and with whom."""

    def name(self) -> str:
        return "action_request_lotse"

    def respond(self, reply: Reply, tracker: Tracker) -> None:
        _ = reply.ctx._
        reply.say(_("A volunteer mentor (Lotse) from the district can write with you here, in this chat.")
                  + "\n" + _("For this, the Lotsen in the district's staff group on Telegram see your language, your town, your topic and your last messages here — not your name, username or phone number. Do you agree?"),
                  [{"title": "✅ " + _("Yes, connect me with a Lotse"), "payload": "/lotse_consent"},
                   {"title": _("No, thank you"), "payload": "/deny"}])


class ActionLotseConsent(WelcomeAction):
    """The newcomer agreed: ask the gateway, which keeps the handover's state, to start one.
    What the Lotsen see first comes from here: town, topic and the last messages."""

    RECENT = 6

    def name(self) -> str:
        return "action_lotse_consent"

    def respond(self, reply: Reply, tracker: Tracker) -> None:
        ctx = reply.ctx
        reply.data({"handover": {"municipality": ctx.town_filter, "topic": last_topic(tracker), "recent": recent_messages(tracker, self.RECENT)}})


def last_topic(tracker: Tracker) -> Optional[str]:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            category = category_of_intent(((event.get("parse_data") or {}).get("intent") or {}).get("name") or "")
            if category:
                return category
    # The tracker holds the last few turns only (welcomebot.rasa_tracker_store): the slots remember.
    return tracker.get_slot("pending_topic") or tracker.get_slot("answered_topic")


def recent_messages(tracker: Tracker, limit: int) -> list[dict[str, str]]:
    """The newcomer's own words and the bot's answers; button taps (payloads) are left out."""
    found: list[dict[str, str]] = []
    for event in tracker.events:
        text = event.get("text")
        if not text or text.startswith("/"):
            continue
        if event.get("event") == "user":
            found.append({"from": "newcomer", "text": text})
        elif event.get("event") == "bot":
            found.append({"from": "bot", "text": text})
    return found[-limit:]


class ActionBackToBot(WelcomeAction):
    """After a handover (or when the newcomer taps "back to the bot"): greet them back."""

    def name(self) -> str:
        return "action_back_to_bot"

    def respond(self, reply: Reply, tracker: Tracker) -> None:
        _ = reply.ctx._
        reply.say(_("Welcome back! You are talking to the assistant again. What would you like to know?"), menu_buttons(reply.ctx))


class ActionPrivacy(WelcomeAction):
    def name(self) -> str:
        return "action_privacy"

    def respond(self, reply: Reply, tracker: Tracker) -> None:
        _ = reply.ctx._
        reply.say(_.plural("I do not ask for your name or phone number. Your messages are kept for %(n)d day so that the conversation can continue, then they are deleted automatically.",
                           "I do not ask for your name or phone number. Your messages are kept for %(n)d days so that the conversation can continue, then they are deleted automatically.",
                           settings.retention_days())
                  + "\n" + _("Statistics count questions, never who asked. Questions I could not answer are kept for the staff without numbers, e-mail addresses or names, and deleted after the same time. Write /delete to erase your conversation now."))


class ActionOutOfScope(WelcomeAction):
    def name(self) -> str:
        return "action_out_of_scope"

    def respond(self, reply: Reply, tracker: Tracker) -> None:
        ctx = reply.ctx
        reply.say(ctx._("I can only help with questions about living in %(district)s, for example courses, offices, work or health.",
                        district=ctx.content.district.name.text(ctx.language)), menu_buttons(ctx))
        keep_unanswered(reply, tracker)


class ActionFallback(WelcomeAction):
    """Below the confidence threshold: say so honestly, offer the topics and a person; the
    second time in a row, offer a person first (SPEC §7)."""

    def name(self) -> str:
        return "action_fallback"

    def respond(self, reply: Reply, tracker: Tracker) -> None:
        ctx = reply.ctx
        reply.counted_intent = "nlu_fallback"
        keep_unanswered(reply, tracker)
        if "action_fallback" in previous_turn_actions(tracker):
            reply.say(ctx._("I still did not understand you, sorry. Would you like to talk to a person? A volunteer Lotse can help you."),
                      [person_button(ctx._), topics_button(ctx._)])
            return
        reply.say(ctx._("Sorry, I am not sure I understood you. Please choose a topic, write your question in other words, or talk to a person."),
                  menu_buttons(ctx))


def previous_turn_actions(tracker: Tracker) -> list[str]:
    """The actions that answered the newcomer's message before this one."""
    users, names = 0, []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users += 1
            if users == 2:
                break
        elif event.get("event") == "action" and users == 1 and event.get("name") != "action_listen":
            names.append(event.get("name"))
    return names


def keep_unanswered(reply: Reply, tracker: Tracker) -> None:
    """What the bot could not answer (a fallback, or out of scope) is kept for staff, scrubbed."""
    ctx = reply.ctx
    text = tracker.latest_message.get("text") or ""
    if text and not text.startswith("/"):  # a button payload is not a question
        record_fallback(ctx.now.date(), ctx.language, ctx.municipality, text, ctx.content, settings.retention_days())


class ActionFeedback(WelcomeAction):
    """👍/👎 under a topic answer: counted for the topic and language of the answer it rates."""

    def name(self) -> str:
        return "action_feedback"

    def respond(self, reply: Reply, tracker: Tracker) -> None:
        ctx = reply.ctx
        reply.counted_intent = None  # a rating, not a question
        rating = ctx.entity("feedback")
        topic = tracker.get_slot("answered_topic")
        if rating in ("up", "down") and topic in CATEGORIES:
            rated_language = tracker.get_slot("language") or ctx.language
            record_feedback(ctx.now.date(), rated_language, f"ask_{topic}", rating)
            reply.set("answered_topic", None)  # one rating per answer
        reply.say(ctx._("Thank you for your feedback! Can I help you with anything else?"), [topics_button(ctx._)])
