"""NLU quality per language: trains on a split of the training data and scores the held-out part.

    .venv/bin/python bench/nlu.py [--test-fraction 0.2] [--seed 7] [--json FILE]

Prints, per language, intent accuracy (counting a fallback as wrong) and macro-F1 on held-out
examples, the classifier's top-guess accuracy and the fallback rate, that were
not used in training, the most frequent confusions, and the training time. With a field-test set in
tests/data/field_test/ (written independently of the training data) it scores that too,
training on all training data.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from welcomebot import settings  # noqa: E402
from welcomebot.training_data import write_generated_data  # noqa: E402


def read_examples(folder: Path) -> list[tuple[str, str, str]]:
    """(language, intent, text) for every example in <folder>/<language>.yml, read by Rasa."""
    from rasa.shared.nlu.training_data.loading import load_data

    rows = []
    for path in sorted(folder.glob("*.yml")):
        for example in load_data(str(path)).intent_examples:
            rows.append((path.stem, example.get("intent"), example.get("text")))
    return rows


def split(rows: list, fraction: float, seed: int) -> tuple[list, list]:
    """Stratified by (language, intent): every intent of every language is in both parts."""
    groups: dict = collections.defaultdict(list)
    for row in rows:
        groups[row[:2]].append(row)
    train, test = [], []
    for key in sorted(groups):
        items = groups[key][:]
        # One generator per (language, intent): adding data to one language leaves the other
        # languages' splits as they were, so figures stay comparable across data changes.
        random.Random(f"{seed}:{key[0]}:{key[1]}").shuffle(items)
        cut = max(1, round(len(items) * fraction))
        test += items[:cut]
        train += items[cut:]
    return train, test


def write_nlu(rows: list, path: Path) -> None:
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    examples = [Message(data={"text": text, "intent": intent}) for _, intent, text in rows]
    path.write_text(TrainingData(training_examples=examples).nlu_as_yaml(), encoding="utf-8")


def train_model(train_rows: list, workdir: Path) -> tuple[Path, float]:
    from rasa.model_training import train_nlu

    data_dir = workdir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    write_nlu(train_rows, data_dir / "train.yml")
    generated = write_generated_data()
    (data_dir / "entities.yml").write_text(generated.read_text(encoding="utf-8"), encoding="utf-8")
    started = time.perf_counter()
    model = train_nlu(
        config=str(settings.nlu_dir() / "config.yml"),
        nlu_data=str(data_dir),
        output=str(workdir / "models"),
        domain=str(settings.nlu_dir() / "domain.yml"),
    )
    return Path(model), time.perf_counter() - started


async def predict(model: Path, texts: list[str]) -> tuple[list[str], list[tuple[str, float]]]:
    """The answer the assistant acts on (with nlu_fallback below the threshold) and the
    classifier's own best guess with its confidence."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    acted, guessed = [], []
    for text in texts:
        parsed = await agent.parse_message(text)
        acted.append(parsed["intent"]["name"])
        best = next((r for r in parsed.get("intent_ranking", []) if r["name"] != "nlu_fallback"), parsed["intent"])
        guessed.append((best["name"], best.get("confidence", 0.0)))
    return acted, guessed


def scores(rows: list, predicted: list[str], guessed: list[tuple[str, float]]) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    result = {}
    for language in sorted({r[0] for r in rows}):
        idx = [i for i, r in enumerate(rows) if r[0] == language]
        gold = [rows[i][1] for i in idx]
        pred = [predicted[i] for i in idx]
        confusions = collections.Counter((g, p) for g, p in zip(gold, pred) if g != p)
        result[language] = {
            "n": len(idx),
            "accuracy": round(accuracy_score(gold, pred), 3),
            "macro_f1": round(f1_score(gold, pred, average="macro", labels=sorted(set(gold)), zero_division=0), 3),
            "top_guess_accuracy": round(accuracy_score(gold, [guessed[i][0] for i in idx]), 3),
            "fallback_rate": round(sum(p == "nlu_fallback" for p in pred) / len(pred), 3),
            "confusions": [f"{g} -> {p} ({n})" for (g, p), n in confusions.most_common(3)],
        }
    return result


def print_table(title: str, result: dict) -> None:
    print(f"\n{title}")
    print(f"{'lang':<5} {'n':>5} {'accuracy':>9} {'macro-F1':>9} {'top guess':>9} {'fallback':>8}  top confusions")
    for language, row in result.items():
        print(f"{language:<5} {row['n']:>5} {row['accuracy']:>9.3f} {row['macro_f1']:>9.3f} {row['top_guess_accuracy']:>9.3f} "
              f"{row['fallback_rate']:>8.3f}  {'; '.join(row['confusions'])}")


def quiet_rasa() -> None:
    """Rasa logs every parse at debug level through structlog unless its CLI configured it."""
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def main() -> None:
    quiet_rasa()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    rows = read_examples(settings.nlu_dir() / "data" / "nlu")
    train_rows, test_rows = split(rows, args.test_fraction, args.seed)
    report: dict = {"examples": len(rows), "train": len(train_rows), "held_out": len(test_rows)}
    with tempfile.TemporaryDirectory() as tmp:
        model, seconds = train_model(train_rows, Path(tmp) / "split")
        report["split_training_seconds"] = round(seconds, 1)
        predicted, guessed = asyncio.run(predict(model, [r[2] for r in test_rows]))
        report["split"] = scores(test_rows, predicted, guessed)
        print_table(f"Held-out split ({len(test_rows)} examples never seen in training; trained in {seconds:.1f} s)", report["split"])

        field = read_examples(ROOT / "tests" / "data" / "field_test")
        if field:
            model, seconds = train_model(rows, Path(tmp) / "full")
            report["full_training_seconds"] = round(seconds, 1)
            predicted, guessed = asyncio.run(predict(model, [r[2] for r in field]))
            report["field_test"] = scores(field, predicted, guessed)
            print_table(f"Field test ({len(field)} examples written independently; full model trained in {seconds:.1f} s)", report["field_test"])
    worst = min(row["accuracy"] for row in report["split"].values())
    print(f"\nlowest held-out accuracy: {worst:.3f} (target >= 0.92)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
