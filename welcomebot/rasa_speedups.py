"""Measured fixes for Rasa 3.6's hot paths, applied in the Rasa server process.

Rasa validates every action server response with `jsonschema.validate`, which first checks the
(constant) schema itself against the JSON Schema meta-schema — on every call. Profiling the
server under load put about 40% of a conversation turn there (bench/latency.py). The
replacement checks the schema once and validates each response with the same validator class,
so responses are checked exactly as before. Then each event is checked against its own type's
part of the schema only (`_ResponseValidator`): 0.7 ms per event, 5% of the server's time, had
gone to the other 22 event types.

Second: every turn Rasa reads the conversation's events back from the tracker store and, for
each event, finds its class by walking the whole `Event` class tree (`Event.resolve_by_type`
calls `all_subclasses` per event). py-spy put 16% of the server's time there at 10 conversations.
`_resolve_by_type` keeps the name -> class table and rebuilds it only for a name it has not seen
(a class imported later), so it returns what Rasa's own lookup returns.

Third: the SQL tracker store's reading and writing, in its own module: `rasa_tracker_store`.

Fourth: the garbage collector. A loaded Rasa server holds millions of long-lived objects
(TensorFlow, SQLAlchemy, the model), and each full collection walked all of them: a probe on
`gc.callbacks` under bench/latency.py saw full collections of 320-390 ms while serving, one
or two per 120 messages at 10 conversations; each one doubled that round's p95 (639 ms).
`freeze_heap_once_loaded` moves what exists once the model is loaded out of the collector's
reach (`gc.freeze`): full collections then take 2 ms. Later garbage is collected as before.

Fifth: Rasa opens a new HTTP session, and so a new TCP connection, for every action server
call (`EndpointConfig.request`): connecting was 5% of the server's time. `_kept_session` gives
each endpoint one long-lived session per event loop; requests and their errors are Rasa's own.

Sixth: Rasa runs its model graph twice a turn or more (understanding, then each prediction)
through dask's scheduler, and recomputes the part of the graph a run needs each time. Both cost
about 10% of the server's time for graphs of a dozen nodes called one message at a time.
`_run_graph` keeps each needed part per target list and calls the nodes in dependency order
in the calling thread — what `dask.get` (dask's synchronous scheduler) does with them.

Seventh: Rasa's processor deep-copies events, entities and slot values to pass them to debug
log calls, whether debug logging is on or not: copying an action's events (answers with their
buttons and offers) was 4% of the server's time. `_CopiesOnlyForDebugLogs` stands in for the
processor's `copy` module: its `deepcopy` copies only when debug logging is on. Every
`copy.deepcopy` in rasa/core/processor.py is such a log argument (tests/test_core_pieces.py
checks that this stays so). And `Domain.is_empty`, asked for every message, built an empty
domain and compared both as dictionaries; the loaded domain does not change while serving, so
its answer is kept.

Imported by `welcomebot.nlu_components`, which Rasa loads with the model.
"""
from __future__ import annotations

import asyncio
import copy
import gc
import logging
from typing import Any, Dict, Optional, Text

import aiohttp
import jsonschema
from jsonschema.exceptions import best_match
from rasa.core.actions.action import RemoteAction
from rasa.engine.exceptions import GraphRunError
from rasa.shared.core.domain import Domain
from rasa.shared.constants import DOCS_BASE_URL
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

logger = logging.getLogger(__name__)
RASA_DOMAIN_IS_EMPTY = Domain.is_empty
_validator: Optional["_ResponseValidator"] = None


class _ResponseValidator:
    """Rasa's action response schema, with each event checked against its own type's part.

    The schema says an event is `oneOf` 23 alternatives, one per event type (`event` const), so
    every event was checked against all 23: 0.7 ms per event. As each alternative requires its
    own `event` value, an event of type X can only match the alternatives for X, and the
    verdict is the same when only those are checked. A response that fails is checked again
    with the whole schema, whose error Rasa raises as before."""

    def __init__(self, schema: Dict[Text, Any]) -> None:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        self.whole = cls(schema)
        self.by_type: Optional[Dict[Any, Any]] = None
        events = schema.get("properties", {}).get("events", {})
        items = events.get("items", {})
        by_type: Dict[Any, list] = {}
        for alternative in items.get("oneOf", []):
            by_type.setdefault(alternative.get("properties", {}).get("event", {}).get("const"), []).append(alternative)
        if by_type and None not in by_type:  # every alternative names its type: split by it
            rest = {k: v for k, v in items.items() if k != "oneOf"}
            self.by_type = {name: cls({**rest, "oneOf": alternatives}) for name, alternatives in by_type.items()}
            outer = copy.deepcopy(schema)
            outer["properties"]["events"] = {k: v for k, v in events.items() if k != "items"}
            self.outer = cls(outer)

    def is_valid(self, result: Any) -> bool:
        if self.by_type is None:
            return self.whole.is_valid(result)
        if not self.outer.is_valid(result):
            return False
        events = result.get("events") if isinstance(result, dict) else None
        for event in events if isinstance(events, list) else ():
            name = event.get("event") if isinstance(event, dict) else None
            validator = self.by_type.get(name) if isinstance(name, str) else None
            if validator is None or not validator.is_valid(event):  # no or an unknown type: invalid
                return False
        return True


def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    global _validator
    if _validator is None:
        _validator = _ResponseValidator(self.action_response_format_spec())
    if _validator.is_valid(result):
        return True
    error = best_match(_validator.whole.iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the "
            f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


_event_classes: Dict[Text, Any] = {}


def _event_class_table() -> Dict[Text, Any]:
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    table: Dict[Text, Any] = {}
    for cls in all_subclasses(Event):  # first match wins, as in Rasa's own loop
        table.setdefault(cls.type_name, cls)
    return table


def _resolve_by_type(type_name: Text, default: Optional[Any] = None) -> Optional[Any]:
    global _event_classes
    cls = _event_classes.get(type_name)
    if cls is None:
        _event_classes = _event_class_table()
        cls = _event_classes.get(type_name)
    if cls is not None:
        return cls
    if type_name == "topic":
        return None  # Rasa's backwards compatibility for old TopicSet events
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


class _CopiesOnlyForDebugLogs:
    """The `copy` module as rasa.core.processor uses it: only for arguments of debug logs."""

    @staticmethod
    def deepcopy(value: Any) -> Any:
        return copy.deepcopy(value) if logging.getLogger("rasa").isEnabledFor(logging.DEBUG) else value


def _is_empty(self: Any) -> bool:
    known = self.__dict__.get("_welcomebot_is_empty")
    if known is None:
        known = self.__dict__["_welcomebot_is_empty"] = RASA_DOMAIN_IS_EMPTY(self)
    return known


def freeze_heap_once_loaded() -> None:
    """Called while the model loads inside the server's event loop: freeze the heap right after
    the loading step ends. Without a running loop (training, tests) nothing happens."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return

    def freeze() -> None:
        gc.collect()  # what is already garbage should not be frozen with the rest
        gc.freeze()
        logger.info("froze %d loaded objects out of the garbage collector's full collections", gc.get_freeze_count())

    loop.call_soon(freeze)


class _KeptSession:
    """What `async with endpoint.session()` yields: the endpoint's long-lived session, not closed
    on exit."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *_exc: Any) -> None:
        return None


_sessions: Dict[tuple, Any] = {}


def _kept_session(self: EndpointConfig) -> _KeptSession:
    # Keyed by what the session is made from (an EndpointConfig is compared, copied and not
    # hashable): one per event loop, URL, headers and credentials.
    key = (id(asyncio.get_running_loop()), self.url, repr(self.headers), repr(self.basic_auth))
    session = _sessions.get(key)
    if session is None or session.closed:
        auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
        session = aiohttp.ClientSession(
            headers=self.headers, auth=auth, timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),  # as Rasa's
            # Idle connections are dropped before the action server's (Sanic's) 5 s keep-alive
            # ends, so a request never goes out on a connection the server is closing.
            connector=aiohttp.TCPConnector(keepalive_timeout=2),
        )
        _sessions[key] = session
    return _KeptSession(session)


def _run_graph(self: Any, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[list] = None) -> Dict[Text, Any]:
    run_targets = list(targets) if targets else list(self._graph_schema.target_names)
    graphs = self.__dict__.setdefault("_welcomebot_graphs", {})
    key = tuple(run_targets)
    if key not in graphs:
        graphs[key] = self._build_dask_graph(self._graph_schema.minimal_graph_schema(run_targets))
    graph = dict(graphs[key])
    if inputs:
        self._add_inputs_to_graph(inputs, graph)
    try:
        return dict(evaluate_graph(graph, run_targets))
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error


def evaluate_graph(graph: Dict[Text, Any], targets: list) -> list:
    """The targets' values of a dask graph as Rasa builds it: a node is `(callable, *names of the
    nodes it needs)`, an input is a tuple that is passed as it is; each node runs once."""
    done: Dict[Text, Any] = {}

    def value(name: Any) -> Any:
        if not (isinstance(name, str) and name in graph):
            return name
        if name not in done:
            task = graph[name]
            done[name] = task[0](*(value(need) for need in task[1:])) if callable(task[0]) else task
        return done[name]

    return [value(target) for target in targets]


def apply() -> None:
    from rasa.shared.core.events import Event

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    EndpointConfig.session = _kept_session  # type: ignore[method-assign]
    from rasa.engine.runner.dask import DaskGraphRunner

    DaskGraphRunner.run = _run_graph  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(_resolve_by_type)  # type: ignore[method-assign]
    import rasa.core.processor

    rasa.core.processor.copy = _CopiesOnlyForDebugLogs  # type: ignore[assignment]
    Domain.is_empty = _is_empty  # type: ignore[method-assign]
    # The other fixes this project applies to the Rasa process, each in its own module.
    from . import rasa_lock, rasa_tracker_store, rasa_turns

    rasa_lock.apply()
    rasa_tracker_store.apply()
    rasa_turns.apply()

