"""A shared location (Telegram's 📎 → Location): the nearest offers of the topic being discussed,
with their distance; without a topic, the question which topic, asked with buttons that carry the
location along.

Reached by the payload `/share_location{"latitude": .., "longitude": .., "topic"?: ..}`.
"""
from __future__ import annotations

import json
import math
from typing import Optional

from babel.units import format_unit
from rasa_sdk import Tracker

from welcomebot.content import CATEGORIES, Offer
from welcomebot.i18n import Translator, name_in

from .actions import Reply, WelcomeAction, _offer_data, office_text, person_button, topics_button
from .render import render_offer, topic_label

NEARBY_OFFERS = 3
EARTH_RADIUS_M = 6_371_000.0


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine): plenty for a district."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((phi2 - phi1) / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def distance_text(metres: float, _: Translator) -> str:
    """"850 m", "2.4 km", "٢٫٤ كم" — the locale's units and number format (Babel)."""
    if metres < 1000:
        return format_unit(max(10, round(metres, -1)), "length-meter", length="short", locale=_.locale)
    return format_unit(round(metres / 1000, 1), "length-kilometer", length="short", locale=_.locale, format="#,##0.#")


def _coordinate(value: Optional[str], low: float, high: float) -> Optional[float]:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and low <= number <= high else None


class ActionShareLocation(WelcomeAction):
    def name(self) -> str:
        return "action_share_location"

    def respond(self, reply: Reply, tracker: Tracker) -> None:
        ctx, _ = reply.ctx, reply.ctx._
        latitude = _coordinate(ctx.entity("latitude"), -90, 90)
        longitude = _coordinate(ctx.entity("longitude"), -180, 180)
        if latitude is None or longitude is None:
            reply.say(_("Sorry, I could not read this location. Please share it again, or tell me your town."), [topics_button(_)])
            return
        topic = ctx.entity("topic") or tracker.get_slot("pending_topic") or tracker.get_slot("answered_topic")
        if topic not in CATEGORIES:
            self._ask_topic(reply, latitude, longitude)
            return
        reply.set("pending_topic", None)
        reply.set("answered_topic", topic)
        self._nearest(reply, topic, latitude, longitude)

    def _ask_topic(self, reply: Reply, latitude: float, longitude: float) -> None:
        ctx = reply.ctx
        buttons = [
            {"title": topic_label(c, ctx._),
             "payload": "/share_location" + json.dumps({"latitude": latitude, "longitude": longitude, "topic": c})}
            for c in CATEGORIES
        ]
        reply.say(ctx._("Thank you. Which topic should I look for near you?"), buttons)

    def _nearest(self, reply: Reply, topic: str, latitude: float, longitude: float) -> None:
        ctx, _ = reply.ctx, reply.ctx._
        placed: list[tuple[float, Offer]] = [
            (distance_m(latitude, longitude, o.address.lat, o.address.lon), o)
            for o in ctx.content.offers_for(topic, ctx.now, None, ctx.audience)
            if o.address is not None and o.address.lat is not None
        ]
        placed.sort(key=lambda pair: pair[0])
        heading = topic_label(topic, _)
        if not placed:
            reply.say(heading + "\n" + _("I have no offer with an address on this topic yet. The integration office can help you:") + "\n" + office_text(ctx))
            return
        nearest = placed[:NEARBY_OFFERS]
        reply.say(heading + "\n" + _("The nearest offers to your location:"))
        fallbacks: set[str] = set()
        for metres, offer in nearest:
            rendered = render_offer(offer, _, ctx.now)
            fallbacks |= rendered.fallback_languages
            reply.say(rendered.text + "\n📏 " + _("%(distance)s from you", distance=distance_text(metres, _)))
        if fallbacks:
            names = ", ".join(name_in(code, ctx.language) for code in sorted(fallbacks))
            reply.say(_("Some of this is not yet available in %(language)s, so it is shown in %(fallback)s.",
                        language=name_in(ctx.language, ctx.language), fallback=names))
        offers = [dict(_offer_data(o, ctx), distance_m=round(m)) for m, o in nearest]
        reply.data({"offers": offers, "topic": topic, "nearby": True})
        reply.say(_("Can I help you with anything else?"), [topics_button(_), person_button(_)])
