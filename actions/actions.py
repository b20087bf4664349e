"""The custom actions: every reply of the assistant is made here, from content and catalogs.

One small class per concern, in rasa_sdk's style. Each reads the conversation through
`build_context` and writes through `Reply`, which keeps the language slot current.
"""
from __future__ import annotations

import abc
import json
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from welcomebot.content import CATEGORIES, category_of_intent
from welcomebot.i18n import name_in, own_name, supported_languages, translator

from .context import ALL_TOWNS, Context, build_context, retention_days
from .render import render_offer, topic_label

MAX_OFFERS = 5
URGENT = {"emergency"}  # answered at once, never after a question about the town


class Reply:
    """Collects what an action says and the slots it sets."""

    def __init__(self, dispatcher: CollectingDispatcher, ctx: Context) -> None:
        self.dispatcher, self.ctx = dispatcher, ctx
        self.events: list[dict[str, Any]] = [SlotSet("language", ctx.language)]

    def say(self, text: str, buttons: Optional[list[dict[str, str]]] = None) -> None:
        self.dispatcher.utter_message(text=text, buttons=buttons or [])

    def data(self, payload: dict[str, Any]) -> None:
        """Structured data for channels (offers' coordinates, the chosen language)."""
        self.dispatcher.utter_message(json_message={"welcomebot": payload})

    def set(self, slot: str, value: Any) -> None:
        self.events.append(SlotSet(slot, value))


def menu_buttons(ctx: Context) -> list[dict[str, str]]:
    _ = ctx._
    buttons = [{"title": topic_label(c, _), "payload": f"/ask_{c}"} for c in CATEGORIES]
    buttons.append({"title": "🙋 " + _("Talk to a person"), "payload": "/request_lotse"})
    buttons.append({"title": "🌐 " + _("Language"), "payload": "/change_language"})
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
        category = category_of_intent(ctx.intent) or (tracker.get_slot("pending_topic") if answering_question else None)
        if category not in CATEGORIES:
            self._town_noted(reply)
            return
        if category == "first_steps" and not answering_question:
            self._checklist(reply)
        if (ctx.municipality is None and category not in URGENT
                and ctx.content.category_is_local(category, ctx.now)):
            reply.say(ctx._("Which town do you live in? Then I can show you the offers near you."), town_buttons(ctx))
            reply.set("pending_topic", category)
            return
        reply.set("pending_topic", None)
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
            reply.say(heading + "\n" + _("I have no offer on this topic for your town yet. The integration office can help you:") + "\n" + office_text(ctx))
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
        reply.say(_("Can I help you with anything else?"), [
            {"title": "📋 " + _("Topics"), "payload": "/help"},
            {"title": "🙋 " + _("Talk to a person"), "payload": "/request_lotse"},
        ])

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


class ActionHelp(WelcomeAction):
    def name(self) -> str:
        return "action_help"

    def respond(self, reply: Reply, tracker: Tracker) -> None:
        reply.say(reply.ctx._("I can help you with these topics. Tap one or just write your question:"), menu_buttons(reply.ctx))


class ActionGoodbye(WelcomeAction):
    def name(self) -> str:
        return "action_goodbye"

    def respond(self, reply: Reply, tracker: Tracker) -> None:
        reply.say(reply.ctx._("Goodbye and all the best! You can write to me at any time."))


class ActionThank(WelcomeAction):
    def name(self) -> str:
        return "action_thank"

    def respond(self, reply: Reply, tracker: Tracker) -> None:
        reply.say(reply.ctx._("You are welcome! Can I help you with anything else?"), [
            {"title": "📋 " + reply.ctx._("Topics"), "payload": "/help"},
        ])


class ActionAcknowledge(WelcomeAction):
    """A yes or no with nothing pending."""

    def name(self) -> str:
        return "action_acknowledge"

    def respond(self, reply: Reply, tracker: Tracker) -> None:
        reply.say(reply.ctx._("All right. What else can I help you with?"), menu_buttons(reply.ctx))


class ActionBotChallenge(WelcomeAction):
    def name(self) -> str:
        return "action_bot_challenge"

    def respond(self, reply: Reply, tracker: Tracker) -> None:
        _ = reply.ctx._
        reply.say(_("I am a computer program, not a person. My answers come from the offices and associations of the district."),
                  [{"title": "🙋 " + _("Talk to a person"), "payload": "/request_lotse"}])


class ActionChangeLanguage(WelcomeAction):
    """Switches the conversation's language (SPEC §3: an explicit choice wins)."""

    def name(self) -> str:
        return "action_change_language"

    def respond(self, reply: Reply, tracker: Tracker) -> None:
        ctx = reply.ctx
        wanted = ctx.entity("language")
        if wanted and wanted in supported_languages():
            _ = translator(wanted)  # the answer is already in the new language
            reply.events[0] = SlotSet("language", wanted)
            reply.data({"language": wanted})
            reply.say(_("All right, from now on I will write in %(language)s.", language=name_in(wanted, wanted)),
                      [{"title": "📋 " + _("Topics"), "payload": "/help"}])
            return
        if wanted:
            reply.say(ctx._("I cannot write in %(language)s yet. Please choose one of these languages:",
                            language=name_in(wanted, ctx.language)), language_buttons())
            return
        reply.say(ctx._("Which language would you like?"), language_buttons())


class ActionRequestLotse(WelcomeAction):
    def name(self) -> str:
        return "action_request_lotse"

    def respond(self, reply: Reply, tracker: Tracker) -> None:
        ctx = reply.ctx
        reply.say(ctx._("Volunteer mentors (Lotsen) help newcomers in person. The integration office puts you in touch with a Lotse:")
                  + "\n" + office_text(ctx))


class ActionPrivacy(WelcomeAction):
    def name(self) -> str:
        return "action_privacy"

    def respond(self, reply: Reply, tracker: Tracker) -> None:
        _ = reply.ctx._
        reply.say(_.plural("I do not ask for your name or phone number. Your messages are kept for %(n)d day so that the conversation can continue, then they are deleted automatically.",
                           "I do not ask for your name or phone number. Your messages are kept for %(n)d days so that the conversation can continue, then they are deleted automatically.",
                           retention_days())
                  + "\n" + _("Statistics only count questions; they never contain your messages. Write /delete to erase your conversation now."))


class ActionOutOfScope(WelcomeAction):
    def name(self) -> str:
        return "action_out_of_scope"

    def respond(self, reply: Reply, tracker: Tracker) -> None:
        ctx = reply.ctx
        reply.say(ctx._("I can only help with questions about living in %(district)s, for example courses, offices, work or health.",
                        district=ctx.content.district.name.text(ctx.language)), menu_buttons(ctx))


class ActionFallback(WelcomeAction):
    """Below the confidence threshold: say so honestly, offer the topics and a person."""

    def name(self) -> str:
        return "action_fallback"

    def respond(self, reply: Reply, tracker: Tracker) -> None:
        reply.say(reply.ctx._("Sorry, I am not sure I understood you. Please choose a topic, write your question in other words, or talk to a person."),
                  menu_buttons(reply.ctx))
