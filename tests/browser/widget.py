"""Driving the widget in a page as a newcomer would: through its buttons, picker and input, found
inside its Shadow DOM (Playwright's CSS locators go into open shadow roots)."""
from __future__ import annotations

from typing import Optional

HOST = "#welcomebot-widget"
REPLY_TIMEOUT_MS = 60_000


class Widget:
    def __init__(self, page) -> None:
        self.page = page

    def part(self, selector: str):
        return self.page.locator(f"{HOST} {selector}")

    @property
    def launcher(self):
        return self.part(".launcher")

    @property
    def panel(self):
        return self.part(".panel")

    @property
    def input(self):
        return self.part("form input")

    def direction(self) -> Optional[str]:
        return self.part(".root").get_attribute("dir")

    def open(self) -> None:
        """Opens the panel (after a reload it may be open already: it remembers)."""
        self.launcher.wait_for()
        if self.panel.is_hidden():
            self.launcher.click()
        self.panel.wait_for(state="visible")

    def bot_count(self) -> int:
        return self.part(".msg.bot:not(.intro)").count()

    def user_texts(self) -> list[str]:
        return [t.strip() for t in self.part(".msg.user p").all_inner_texts()]

    def log_text(self) -> str:
        return self.part(".log").inner_text()

    def wait_for_replies(self, before: int) -> None:
        """Until the assistant has said more than `before` messages and nothing waits to be sent."""
        self.page.wait_for_function(
            """([host, before]) => {
                const root = document.querySelector(host).shadowRoot;
                return root.querySelectorAll('.msg.bot:not(.intro)').length > before && !root.querySelector('.pending');
            }""",
            arg=[HOST, before], timeout=REPLY_TIMEOUT_MS,
        )

    def ask(self, text: str) -> None:
        before = self.bot_count()
        self.input.fill(text)
        self.input.press("Enter")
        self.wait_for_replies(before)

    def tap(self, title: str) -> None:
        """The last quick-reply button with this title."""
        before = self.bot_count()
        self.part(".choices button").filter(has_text=title).last.click()
        self.wait_for_replies(before)

    def pick_language(self, code: str) -> None:
        before = self.bot_count()
        self.part("header select").select_option(code)
        self.wait_for_replies(before)

    def wait_for_text(self, text: str) -> None:
        self.part(".log").filter(has_text=text).wait_for(timeout=REPLY_TIMEOUT_MS)

    def ask_topic(self, question: str, town: str = "Lindenau") -> None:
        """Ask, and answer the town question with its button if the assistant asks it."""
        self.ask(question)
        town_button = self.part(".msg.bot").last.locator(".choices button").filter(has_text=town)
        if town_button.count():
            self.tap(town)
