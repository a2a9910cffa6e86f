"""A ledger of who held which GPU when, written by the ranks themselves, and
the check that no GPU of a node was ever held by two ranks at once.

Each rank appends a line when it starts and one when it ends:

    start JOB ATTEMPT RANK NODE GPUS TIME
    end   JOB ATTEMPT RANK NODE GPUS TIME

GPUS is $CUDA_VISIBLE_DEVICES as the agent set it (comma-separated indices,
"-" for none) and TIME the monotonic clock from /proc/uptime (read with a
shell builtin: no process started, cheap enough for hundreds of ranks). Its
10 ms steps never turn a true order around: a rank that ended before another
started reads at most the same time, and equal times count as no overlap.

A rank writes "end" from its SIGTERM trap too, so a rank the master stops
(preempted, its gang requeued) records when it let go. The "end" line comes
before the process is gone, so the check is, if anything, lenient by the
moment between the two.
"""

import collections

SHELL_GPUS = '${CUDA_VISIBLE_DEVICES:--}'


def line_command(ledger, what):
    """A shell command that appends this rank's `what` ("start" or "end")
    line to the ledger file."""
    return ('read cadre_t cadre_rest < /proc/uptime; echo "%s $CADRE_JOB_ID $CADRE_ATTEMPT $CADRE_RANK '
            '$CADRE_NODE_NAME %s $cadre_t" >> %s' % (what, SHELL_GPUS, ledger))


def wrap(ledger, body, term_exit=143):
    """A rank script: records its start, runs `body`, records its end. On
    SIGTERM it records its end and exits with term_exit. `body` should wait
    in the background (`sleep N & wait $!`) so the trap runs at once."""
    return ("trap '%s; exit %d' TERM; %s; %s; %s" % (
        line_command(ledger, "end"), term_exit, line_command(ledger, "start"), body, line_command(ledger, "end")))


Span = collections.namedtuple("Span", "job attempt rank node gpus start end")


def read(path):
    """{(job, attempt, rank): Span} from the ledger, and the lines that did
    not parse. A span without an "end" line has end None (still running, or
    killed without a trap)."""
    spans = {}
    bad = []
    with open(path) as f:
        for raw in f:
            parts = raw.split()
            if len(parts) != 7 or parts[0] not in ("start", "end"):
                bad.append(raw)
                continue
            try:
                key = (int(parts[1]), int(parts[2]), int(parts[3]))
                t = float(parts[6])
                gpus = frozenset() if parts[5] == "-" else frozenset(int(g) for g in parts[5].split(","))
            except ValueError:
                bad.append(raw)
                continue
            old = spans.get(key) or Span(key[0], key[1], key[2], parts[4], gpus, None, None)
            if parts[0] == "start":
                if old.start is not None:
                    bad.append("(a second start) " + raw)
                old = old._replace(start=t, node=parts[4], gpus=gpus)
            else:
                old = old._replace(end=t)
            spans[key] = old
    return spans, bad


def overlaps(spans, exempt=lambda span: False):
    """Every pair of spans that held the same GPU of the same node at once,
    as readable lines. A span with no end holds its GPUs for ever; one with
    no start held nothing that the ledger saw. exempt(span) leaves a span
    out (a rank cut off on a node that went DOWN)."""
    by_gpu = collections.defaultdict(list)
    for s in spans.values():
        if s.start is None or exempt(s):
            continue
        for g in s.gpus:
            by_gpu[(s.node, g)].append(s)
    found = []
    for (node, gpu), held in sorted(by_gpu.items()):
        held.sort(key=lambda s: s.start)
        active = []
        for s in held:
            active = [a for a in active if a.end is None or a.end > s.start]
            for a in active:
                found.append("GPU %d of %s: job %d attempt %d rank %d held it %.2f-%s, job %d attempt %d rank %d "
                             "from %.2f" % (gpu, node, a.job, a.attempt, a.rank, a.start,
                                            "still" if a.end is None else "%.2f" % a.end,
                                            s.job, s.attempt, s.rank, s.start))
            active.append(s)
    return found
