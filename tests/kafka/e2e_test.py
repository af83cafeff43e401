#!/usr/bin/env python3
"""End-to-end tests of `tally serve` and `tally publish` against a real
Apache Kafka broker (tests/kafka/broker.sh starts one, single-node KRaft on
127.0.0.1, in a temporary directory, and stops it by pid afterwards).

Usage: e2e_test.py TALLY_BINARY [unittest arguments]
Exits 77 (skipped) when Java or Maven is absent.
"""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BROKER = os.path.join(HERE, "broker.sh")
TALLY = None  # set by main
SKIPPED = 77


def broker(*args, **kwargs):
    return subprocess.run([BROKER, *args], check=True, text=True, stdout=subprocess.PIPE,
                          **kwargs).stdout


def event(event_id, account, kind, **data):
    return json.dumps({"id": event_id, "account": account,
                       "occurred_at": "2026-11-20T10:00:00Z", "producer": "e2e",
                       "type": kind, "data": data}, separators=(",", ":"))


def top_up(event_id, account, credits):
    return event(event_id, account, "top_up_settled", provider="stripe",
                 reference="pi_" + event_id, credits=credits,
                 amount={"currency": "USD", "value": "%d.00" % (int(credits) // 100)})


def usage(event_id, account, credits):
    return event(event_id, account, "usage_recorded", usage_id=event_id, credits=credits)


def billing_day(count, accounts, seed):
    """`count` events: a top-up per account first, then usage and top-ups."""
    rng = random.Random(seed)
    lines = [top_up("t-%d" % a, "acct-%d" % a, "100000") for a in range(accounts)]
    for i in range(count - accounts):
        account = "acct-%d" % rng.randrange(accounts)
        if rng.random() < 0.1:
            lines.append(top_up("t-%d-%d" % (seed, i), account, "500"))
        else:
            lines.append(usage("u-%d-%d" % (seed, i), account, str(rng.randint(1, 20))))
    return lines


class Serve:
    """A `tally serve` process with JSON status lines on stdout."""

    def __init__(self, data, topic, group, changelog, *extra):
        self.args = [TALLY, "serve", "--kafka-brokers", E2E.bootstrap, "--data", data,
                     "--topic", topic, "--group", group, "--changelog-topic", changelog,
                     "--outcomes-topic", changelog + ".outcomes",
                     "--dead-letter-topic", changelog + ".dead", "--json",
                     "--status-every-ms", "200", *extra]
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.statuses = []

    def next_status(self):
        line = self.process.stdout.readline()
        if not line:
            return None
        self.statuses.append(json.loads(line))
        return self.statuses[-1]

    def wait_for(self, done, timeout_s=120):
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            status = self.next_status()
            if status is None:
                raise AssertionError("serve exited: " + self.process.stderr.read())
            if done(status):
                return status
        raise AssertionError("serve did not get there in %d s: %s" % (timeout_s, self.statuses[-1:]))

    def stop(self, sig=signal.SIGTERM):
        self.process.send_signal(sig)
        out, err = self.process.communicate(timeout=120)
        for line in out.splitlines():
            self.statuses.append(json.loads(line))
        return self.process.returncode, err


def serve_until_idle(data, topic, group, changelog, *extra):
    run = subprocess.run([TALLY, "serve", "--kafka-brokers", E2E.bootstrap, "--data", data,
                          "--topic", topic, "--group", group, "--changelog-topic", changelog,
                          "--outcomes-topic", changelog + ".outcomes",
                          "--dead-letter-topic", changelog + ".dead", "--json",
                          "--status-every-ms", "60000", "--exit-when-idle-ms", "3000", *extra],
                         text=True, capture_output=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def tally(*args):
    run = subprocess.run([TALLY, *args], text=True, capture_output=True, timeout=600)
    assert run.returncode == 0, (args, run.stderr)
    return run.stdout


def changelog(broker_dir, topic):
    """Every message of a one-partition topic: (headers, value)."""
    run = subprocess.run([BROKER, "consume", broker_dir, topic, "10000000"], text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=300)
    for line in run.stdout.splitlines():
        header_text, _key, value = line.split("|", 2)
        headers = dict(h.split(":", 1) for h in header_text.split(";"))
        yield headers, value


def comparable_log(data):
    """The log as `tally events` prints it, without the instants of this run:
    recorded_at, and occurred_at of the ledger's own events."""
    out = []
    for line in tally("events", "--data", data, "--sealed").splitlines():
        line = re.sub(r'"recorded_at":"[^"]*",', "", line)
        if '"producer":"tally"' in line:
            line = re.sub(r'"occurred_at":"[^"]*",', "", line)
        out.append(line)
    return out


class E2E(unittest.TestCase):
    bootstrap = None
    broker_dir = None
    work = None

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="tally-e2e-")
        cls.broker_dir = os.path.join(cls.work, "broker")
        started = time.time()
        cls.bootstrap = broker("start", cls.broker_dir).strip()
        print("broker at %s, up in %.1f s" % (cls.bootstrap, time.time() - started),
              file=sys.stderr)
        for topic, partitions in [("e2e.load", 4), ("e2e.kill", 1), ("e2e.outage", 4),
                                  ("e2e.poison", 1), ("e2e.group", 4)]:
            broker("topic", cls.broker_dir, topic, str(partitions))

    @classmethod
    def tearDownClass(cls):
        broker("stop", cls.broker_dir)
        shutil.rmtree(cls.work, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.work, name)

    def publish(self, topic, lines, name):
        path = self.path(name + ".ndjson")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        started = time.time()
        out = json.loads(tally("publish", "--brokers", self.bootstrap, "--topic", topic,
                               path, "--json"))
        self.assertEqual(out["published"], len(lines))
        return time.time() - started

    def test_1_ingest_of_100k_events_from_a_separate_producer(self):
        lines = billing_day(100_000, 500, seed=1)
        publish_s = self.publish("e2e.load", lines, "load")
        started = time.time()
        status = serve_until_idle(self.path("load"), "e2e.load", "load", "e2e.load.changelog")
        serve_s = time.time() - started - 3.0  # less the idle time before exiting
        self.assertEqual(status["messages"], 100_000)
        self.assertEqual(status["appended"], 100_000)
        self.assertEqual(status["duplicates"] + status["rejected"] + status["malformed"], 0)
        self.assertEqual(status["lag"], 0)
        self.assertEqual(status["published_seq"], status["head_seq"])
        tally("audit", "verify", "--data", self.path("load"))
        print("100k events: published in %.1f s; served (ingest and changelog, with the group "
              "join) in %.1f s: %.0f events/s" % (publish_s, serve_s, 100_000 / serve_s),
              file=sys.stderr)

    def test_2_sigkill_mid_ingest_then_restart_gives_the_same_log(self):
        lines = billing_day(30_000, 50, seed=2)
        self.publish("e2e.kill", lines, "kill")
        reference = self.path("kill-reference")
        serve_until_idle(reference, "e2e.kill", "kill-reference", "e2e.kill.ref")
        killed = self.path("kill-killed")
        rng = random.Random(int(os.environ.get("TALLY_CRASH_SEED", "2")))
        kills = 0
        for _ in range(3):
            serve = Serve(killed, "e2e.kill", "kill-killed", "e2e.kill.changelog",
                          "--instance-id", "kill-1")
            target = rng.randint(1, 9_000) + kills * 9_000
            serve.wait_for(lambda s: s["head_seq"] >= target)
            code, _ = serve.stop(signal.SIGKILL)
            self.assertEqual(code, -signal.SIGKILL)
            kills += 1
        status = serve_until_idle(killed, "e2e.kill", "kill-killed", "e2e.kill.changelog",
                                  "--instance-id", "kill-1")
        self.assertEqual(status["lag"], 0)
        self.assertEqual(status["published_seq"], status["head_seq"])
        want = comparable_log(reference)
        got = comparable_log(killed)
        self.assertEqual(len(got), len(want))
        self.assertTrue(got == want, "the logs differ after %d kills" % kills)
        tally("audit", "verify", "--data", killed)
        self.assertEqual(tally("trial-balance", "--data", killed, "--csv"),
                         tally("trial-balance", "--data", reference, "--csv"))
        # The changelog of the killed runs: every seq, a repeat only as the
        # same event.
        by_seq = {}
        for headers, value in changelog(self.broker_dir, "e2e.kill.changelog"):
            by_seq.setdefault(int(headers["tally-seq"]), set()).add(value)
        self.assertEqual(sorted(by_seq), list(range(1, status["head_seq"] + 1)))
        self.assertTrue(all(len(values) == 1 for values in by_seq.values()))
        print("changelog after %d kills: %d messages for %d seqs" % (
            kills, sum(1 for _ in changelog(self.broker_dir, "e2e.kill.changelog")),
            len(by_seq)), file=sys.stderr)

    def test_3_poison_messages_go_to_the_dead_letter_topic(self):
        good = [top_up("p-t1", "acct-p", "100"), usage("p-u1", "acct-p", "5")]
        conflicting = usage("p-u1", "acct-p", "7")  # same id, other content: rejected
        lines = ["acct-p|" + good[0], "acct-p|{not json", "acct-p|" + good[1],
                 "acct-q|" + usage("p-u2", "acct-p", "1"),  # key is not the account
                 "acct-p|" + conflicting]
        broker("produce", self.broker_dir, "e2e.poison", input="\n".join(lines) + "\n")
        status = serve_until_idle(self.path("poison"), "e2e.poison", "poison",
                                  "e2e.poison.changelog")
        self.assertEqual(status["messages"], 5)
        self.assertEqual(status["appended"], 2)
        self.assertEqual(status["malformed"], 2)
        self.assertEqual(status["rejected"], 1)
        self.assertEqual(status["dead_letters"], 3)
        letters = broker("consume", self.broker_dir, "e2e.poison.changelog.dead", "3")
        # A message that is not an event keeps its key, size and reason, never
        # its bytes (they may hold personal data no key can later erase).
        self.assertIn("tally-value:omitted;tally-value-bytes:9;tally-error:not valid JSON", letters)
        self.assertIn("|acct-p|\n", letters)
        self.assertNotIn("{not json", letters)
        self.assertIn("is not the event's account", letters)
        # A rejected event comes back as the ledger judged it (canonical form).
        self.assertIn("tally-value:event;tally-error:conflict: id \"p-u1\"", letters)
        self.assertIn('|acct-p|{"id":"p-u1","account":"acct-p"', letters)
        self.assertIn('"credits":"7.000000"', letters)
        self.assertIn("tally-source-topic:e2e.poison", letters)

    def test_4_two_processes_in_one_group_split_the_partitions(self):
        # A takes every partition and starts appending; B joins and the group
        # hands it two. B's ledger never had them: it starts where the group
        # got to (A's commits after each durable append), so between the two
        # ledgers every message is appended once.
        lines = billing_day(20_000, 200, seed=4)
        half = len(lines) // 2
        self.publish("e2e.group", lines[:half], "group-1")
        a = Serve(self.path("group-a"), "e2e.group", "split", "e2e.group.a")
        a.wait_for(lambda s: s["messages"] == half)
        b = Serve(self.path("group-b"), "e2e.group", "split", "e2e.group.b")
        b.wait_for(lambda s: s["partitions"] == 2)
        a.wait_for(lambda s: s["partitions"] == 2)
        self.publish("e2e.group", lines[half:], "group-2")
        total = lambda: a.statuses[-1]["messages"] + b.statuses[-1]["messages"]
        deadline = time.time() + 120
        while total() < len(lines) and time.time() < deadline:
            a.next_status()
            b.next_status()
        split = sorted([a.statuses[-1]["partitions"], b.statuses[-1]["partitions"]]) == [2, 2]
        self.assertEqual(a.stop()[0], 0)
        self.assertEqual(b.stop()[0], 0)
        self.assertTrue(split, "the group never split the partitions 2 and 2")
        self.assertGreater(b.statuses[-1]["appended"], 0)
        self.assertEqual(a.statuses[-1]["messages"] + b.statuses[-1]["messages"], len(lines))
        ids = set()
        for side in ("group-a", "group-b"):
            for line in tally("events", "--data", self.path(side), "--sealed").splitlines():
                e = json.loads(line)
                if e["producer"] == "tally":
                    continue
                self.assertNotIn(e["id"], ids, "appended by both processes")
                ids.add(e["id"])
        self.assertEqual(len(ids), len(lines))

    def test_5_broker_stop_and_start_during_ingest(self):
        first = billing_day(20_000, 100, seed=5)
        self.publish("e2e.outage", first, "outage-1")
        serve = Serve(self.path("outage"), "e2e.outage", "outage", "e2e.outage.changelog")
        serve.wait_for(lambda s: s["appended"] > 0)
        broker("stop", self.broker_dir)
        errors = serve.wait_for(lambda s: s["kafka_errors"] > 0, timeout_s=60)
        self.assertTrue(errors["last_kafka_error"])
        time.sleep(3)
        broker("start", self.broker_dir)
        second = [usage("o2-%d" % i, "acct-%d" % (i % 100), "1") for i in range(5_000)]
        self.publish("e2e.outage", second, "outage-2")
        total = len(first) + len(second)
        done = serve.wait_for(lambda s: s["messages"] >= total and s["lag"] == 0
                              and s["published_seq"] == s["head_seq"], timeout_s=300)
        code, err = serve.stop()
        self.assertEqual(code, 0, err)
        self.assertIn("stopped cleanly", err)
        self.assertEqual(done["appended"], total)
        self.assertEqual(done["duplicates"], 0)
        tally("audit", "verify", "--data", self.path("outage"))


def main():
    global TALLY
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    TALLY = os.path.abspath(sys.argv[1])
    if subprocess.run([BROKER, "check"]).returncode == SKIPPED:
        return SKIPPED
    broker("fetch")
    result = unittest.main(argv=[sys.argv[0], *sys.argv[2:]], exit=False, verbosity=2).result
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
