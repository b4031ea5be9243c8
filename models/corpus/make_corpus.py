#!/usr/bin/env python3
"""make_corpus.py - the plain-English pretraining corpus of octo's base model.

No pretrained weights or web text can be fetched on the machines that train
octo's default models, so the base model learns English from what Debian and
../shared carry offline:

  gcide      the Collaborative International Dictionary of English (dict-gcide):
             one document per entry, markup, etymologies and citations removed
  wordnet    WordNet 3.0 synsets (wordnet-base): "lemmas (pos): gloss. Example: ..."
  fortunes   fortune cookies (fortunes, fortunes-min), offensive sets excluded
  docs       README / NEWS / changelog prose from /usr/share/doc, filtered to
             plain English (code, licences, signatures and addresses dropped)
  requests   unlabeled TaskBench requests (../shared/data), minus every request
             whose id is a labeled record's, so no dev or test query leaks in
  generated  `octo data gen` records (queries and their steps), made by
             make_corpus.sh from the training half of the phrasings only

Output (every file written atomically: temp, fsync, rename):
  OUT/corpus.txt      all documents, deduplicated, in a seeded shuffle,
                      separated by blank lines
  OUT/corpus_eval.txt a held-out slice of the shuffle (--eval-frac), for the
                      pretraining eval loss; not in corpus.txt
  OUT/sources/NAME.txt  each source alone (sorted, deduplicated), for mixing
  OUT/manifest.json   inputs (path, bytes, sha256), per-source documents,
                      bytes and words, and the outputs' sizes and sha256

Same inputs and seed: byte-identical outputs. The inputs are listed with
their hashes because /usr/share/doc differs from machine to machine.
"""
import argparse
import glob
import gzip
import hashlib
import json
import os
import random
import re
import sys
import tempfile

# ---------------------------------------------------------------- helpers


def atomic_write(path, data):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def read_text(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        raw = f.read()
    return raw.decode("utf-8", errors="replace")


WS = re.compile(r"[ \t\r\f\v]+")


def squash(s):
    return WS.sub(" ", s).strip()


# printable text only: drop control characters and the replacement character
BAD_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f\ufffd]")


def norm_key(doc):
    """Dedupe key: case, punctuation and spacing do not make a new document."""
    return hashlib.sha1(re.sub(r"[^a-z0-9]+", " ", doc.lower()).strip().encode()).digest()


class Inputs:
    """Every file read, with its size and hash, for the manifest."""

    def __init__(self):
        self.files = {}

    def add(self, path):
        if path not in self.files:
            self.files[path] = {"bytes": os.path.getsize(path), "sha256": sha256_file(path)}


# ---------------------------------------------------------------- gcide

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def b64num(s):
    n = 0
    for c in s:
        n = n * 64 + B64.index(c)
    return n


def clean_gcide_entry(text):
    """An entry of gcide.dict as plain prose: headword, part of speech, senses."""
    # pronunciations \Af*fect"\, cross-reference braces, bracketed notes
    # (etymology, [1913 Webster], [Obs.]) which may span lines
    t = re.sub(r"\\[^\\\n]*\\", "", text)
    for _ in range(3):  # nested brackets: innermost first
        t = re.sub(r"\[[^\[\]]*\]", "", t)
    t = t.replace("{", "").replace("}", "")
    t = re.sub(r"--[A-Z][\w.' ]{0,40}?\.(?=\s|$)", "", t)  # --Milton. --Bp. Hall.
    t = re.sub(r"\S*\?\S*[A-Za-z]\S*", "", t)  # words with unconverted characters
    out = []
    for para in re.split(r"\n\s*\n", t):
        p = squash(para.replace("\n", " "))
        p = re.sub(r"\s+([,.;:])", r"\1", p)
        p = re.sub(r"([,;:])\1+", r"\1", p)
        p = p.strip(" ,;")
        if len(re.findall(r"[A-Za-z]+", p)) >= 2:
            out.append(p)
    return "\n".join(out)


def src_gcide(inputs):
    idx, dz = "/usr/share/dictd/gcide.index", "/usr/share/dictd/gcide.dict.dz"
    if not (os.path.exists(idx) and os.path.exists(dz)):
        raise SystemExit("make_corpus: gcide missing (apt-get install dict-gcide)")
    inputs.add(idx)
    inputs.add(dz)
    with gzip.open(dz, "rb") as f:  # dictzip is gzip-compatible
        data = f.read()
    spans = set()
    with open(idx, "rb") as f:
        for line in f:
            parts = line.rstrip(b"\n").split(b"\t")
            if len(parts) != 3 or parts[0].startswith(b"00-database"):
                continue
            spans.add((b64num(parts[1].decode()), b64num(parts[2].decode())))
    docs = []
    for off, n in sorted(spans):
        doc = clean_gcide_entry(data[off : off + n].decode("utf-8", errors="replace"))
        if len(doc) >= 40:
            docs.append(doc)
    return docs


# ---------------------------------------------------------------- wordnet

POS = {"n": "noun", "v": "verb", "a": "adjective", "s": "adjective", "r": "adverb"}


def src_wordnet(inputs):
    docs = []
    files = [f"/usr/share/wordnet/data.{p}" for p in ("noun", "verb", "adj", "adv")]
    for path in files:
        if not os.path.exists(path):
            raise SystemExit("make_corpus: wordnet missing (apt-get install wordnet-base)")
        inputs.add(path)
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("  ") or " | " not in line:
                    continue  # the licence header
                head, gloss = line.split(" | ", 1)
                h = head.split()
                n_words = int(h[3], 16)
                words = [h[4 + 2 * i].replace("_", " ") for i in range(n_words)]
                words = [re.sub(r"\(.*\)$", "", w) for w in words]  # adjective markers (a), (p)
                gloss = gloss.strip()
                defs, examples = [], []
                for part in gloss.split(";"):
                    part = part.strip()
                    if not part:
                        continue
                    if part.startswith('"'):
                        examples.append(part.strip('"').strip())
                    else:
                        defs.append(part)
                if not defs:
                    continue
                s = f"{', '.join(dict.fromkeys(words))} ({POS.get(h[2], h[2])}): {'; '.join(defs)}."
                if examples:
                    s += " For example: " + " ".join(e if e.endswith((".", "!", "?")) else e + "." for e in examples)
                docs.append(s)
    return docs


# ---------------------------------------------------------------- fortunes

FORTUNE_SKIP = {"ascii-art"}  # pictures, not prose


def src_fortunes(inputs):
    d = "/usr/share/games/fortunes"
    paths = sorted(p for p in glob.glob(d + "/*") if "." not in os.path.basename(p) and os.path.isfile(p))
    paths = [p for p in paths if os.path.basename(p) not in FORTUNE_SKIP]
    if not paths:
        raise SystemExit("make_corpus: fortunes missing (apt-get install fortunes fortunes-min)")
    docs = []
    for p in paths:
        inputs.add(p)
        for cookie in read_text(p).split("\n%\n"):
            lines = [squash(l) for l in cookie.strip("%\n").split("\n")]
            lines = [l for l in lines if l]
            doc = "\n".join(lines)
            # mostly letters: skip drawings and tables
            if len(doc) >= 20 and sum(c.isalpha() or c == " " for c in doc) / len(doc) > 0.8:
                docs.append(doc)
    return docs


# ---------------------------------------------------------------- /usr/share/doc prose

DOC_NAME = re.compile(r"^(README|NEWS|CHANGES|changelog|ChangeLog|TODO|FAQ|BUGS|HISTORY)([._-].*)?$", re.I)
DOC_SKIP_EXT = re.compile(r"\.(html?|css|js|png|jpe?g|gif|svg|pdf|py|c|h|pl|sh|pas|el|xml|json|ya?ml|cfg|conf|ini)(\.gz)?$", re.I)
LICENCE = re.compile(
    r"licen[cs]e|warrant|copyright|\bgpl\b|permission is hereby|redistribut|merchantab|"
    r"free software foundation|all rights reserved|\(c\)",
    re.I,
)
CODE = re.compile(r"[{};<>$\\|`~^]|==|=>|->|::|\w\(\)|#include|^\s*#|\w+\.\w+\(|\w+_\w+|[a-z][A-Z]|/\w+/")
CHANGELOG_HEAD = re.compile(r"^\S+ \([^)]*\) [^;]*; urgency=")
BULLET = re.compile(r"^\s*(?:[*+o-]|\d+[.)]|\[[^\]]*\])\s+")
URL = re.compile(r"\b(?:https?|ftp)://\S+|\bwww\.\S+")


class Lexicon:
    """English words (WordNet lemmas and GCIDE headwords) for the prose test."""

    def __init__(self):
        w = set()
        for p in ("noun", "verb", "adj", "adv"):
            path = f"/usr/share/wordnet/index.{p}"
            if os.path.exists(path):
                with open(path, encoding="utf-8", errors="replace") as f:
                    for line in f:
                        if not line.startswith(" "):
                            w.update(line.split(" ", 1)[0].lower().split("_"))
        path = "/usr/share/dictd/gcide.index"
        if os.path.exists(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    w.update(line.split("\t", 1)[0].lower().split())
        self.words = w

    def known(self, word):
        w = word.lower().strip("'")
        if w in self.words:
            return True
        for suf, rep in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"), ("ly", ""), ("'s", "")):
            if w.endswith(suf) and w[: -len(suf)] + rep in self.words:
                return True
        return False


def prose_units(text):
    """Paragraphs and bullet items of a text file, each as one line."""
    units, cur = [], []

    def flush():
        if cur:
            units.append(squash(" ".join(cur)))
            cur.clear()

    for line in text.split("\n"):
        if not line.strip() or CHANGELOG_HEAD.match(line) or line.startswith(" -- ") or re.match(r"^\s*[=\-_*#~]{3,}\s*$", line):
            flush()
            continue
        m = BULLET.match(line)
        if m:
            flush()
            line = line[m.end() :]
        cur.append(line.strip())
    flush()
    return units


def is_prose(u, lex):
    if LICENCE.search(u) or "@" in u or CODE.search(u):
        return False
    words = re.findall(r"[A-Za-z][A-Za-z']*", u)
    if len(words) < 8 or len(u) > 2000:
        return False
    if sum(c.isalpha() or c in " ,.'\"!?:()-" for c in u) / len(u) < 0.93:
        return False
    if sum(lex.known(w) for w in words) / len(words) < 0.85:
        return False
    return u[0].isupper() and u[-1] in ".!?"


def src_docs(inputs, lex, per_file_cap=16384):
    paths = []
    for root, dirs, files in os.walk("/usr/share/doc"):
        dirs.sort()
        for fn in sorted(files):
            p = os.path.join(root, fn)
            if DOC_NAME.match(fn) and not DOC_SKIP_EXT.search(fn) and os.path.isfile(p) and not os.path.islink(p):
                paths.append(p)
    docs = []
    for p in sorted(paths):
        try:
            text = read_text(p)
        except (OSError, EOFError, gzip.BadGzipFile):
            continue
        inputs.add(p)
        kept, size = [], 0
        for u in prose_units(URL.sub("", text)):
            if is_prose(u, lex):
                kept.append(u)
                size += len(u)
                if size > per_file_cap:  # no one package's history dominates
                    break
        docs.extend(kept)  # one unit, one document: they dedupe across packages
    return docs


# ---------------------------------------------------------------- requests and generated data


def labeled_ids(shared):
    ids = set()
    p = os.path.join(shared, "data/taskbench-dailylife/labeled.jsonl")
    if os.path.exists(p):
        with open(p, encoding="utf-8") as f:
            for line in f:
                try:
                    ids.add(str(json.loads(line).get("id")))
                except (ValueError, AttributeError):
                    pass
    return ids


def src_requests(inputs, shared):
    paths = sorted(glob.glob(os.path.join(shared, "data/taskbench-requests/*.json")))
    paths += sorted(glob.glob(os.path.join(shared, "data/taskbench-dailylife/user_requests.json")))
    if not paths:
        print(f"make_corpus: no TaskBench requests under {shared}/data: source skipped", file=sys.stderr)
        return [], 0
    skip = labeled_ids(shared)
    docs, dropped = [], 0
    for p in paths:
        inputs.add(p)
        with open(p, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(r, dict) or not isinstance(r.get("user_request"), str):
                    continue
                if str(r.get("id")) in skip:
                    dropped += 1
                    continue
                s = squash(r["user_request"])
                if s:
                    docs.append(s)
    return docs, dropped


def src_generated(inputs, paths):
    docs = []
    for p in sorted(paths):
        inputs.add(p)
        with open(p, encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                steps = [squash(s) for s in r.get("steps", [])]
                docs.append("\n".join([squash(r["query"])] + steps))
    return docs


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--out", required=True, help="output directory")
    ap.add_argument("--shared", default=os.environ.get("OCTO_SHARED", "../shared"))
    ap.add_argument("--generated", nargs="*", default=[], help="octo data gen JSONL files")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--eval-frac", type=float, default=0.005, help="share of documents held out")
    ap.add_argument("--sources", default="gcide,wordnet,fortunes,docs,requests,generated")
    a = ap.parse_args()

    inputs = Inputs()
    want = a.sources.split(",")
    sources, notes = {}, {}
    lex = Lexicon() if "docs" in want else None
    for name in want:
        if name == "gcide":
            sources[name] = src_gcide(inputs)
        elif name == "wordnet":
            sources[name] = src_wordnet(inputs)
        elif name == "fortunes":
            sources[name] = src_fortunes(inputs)
        elif name == "docs":
            sources[name] = src_docs(inputs, lex)
        elif name == "requests":
            sources[name], notes["requests_dropped_labeled_ids"] = src_requests(inputs, a.shared)
        elif name == "generated":
            sources[name] = src_generated(inputs, a.generated)
        else:
            raise SystemExit(f"make_corpus: unknown source {name}")

    # dedupe across everything, first source (in the order asked) wins
    seen, stats, all_docs = set(), {}, []
    for name in want:
        kept = []
        for d in sorted(BAD_CHARS.sub("", x).strip() for x in sources[name]):
            k = norm_key(d)
            if d and k not in seen:
                seen.add(k)
                kept.append(d)
        text = "\n\n".join(kept) + "\n"
        atomic_write(os.path.join(a.out, "sources", name + ".txt"), text.encode())
        stats[name] = {
            "documents_in": len(sources[name]),
            "documents": len(kept),
            "bytes": len(text.encode()),
            "words": len(text.split()),
        }
        all_docs.extend(kept)
        print(f"{name:10s} {len(kept):8d} docs {len(text.encode()) / 1e6:8.2f} MB", file=sys.stderr)

    random.Random(a.seed).shuffle(all_docs)
    n_eval = int(len(all_docs) * a.eval_frac)
    eval_docs, all_docs = all_docs[:n_eval], all_docs[n_eval:]
    held = ("\n\n".join(eval_docs) + "\n").encode()
    atomic_write(os.path.join(a.out, "corpus_eval.txt"), held)
    corpus = ("\n\n".join(all_docs) + "\n").encode()
    atomic_write(os.path.join(a.out, "corpus.txt"), corpus)
    manifest = {
        "seed": a.seed,
        "sources": stats,
        "notes": notes,
        "corpus": {
            "path": "corpus.txt",
            "documents": len(all_docs),
            "bytes": len(corpus),
            "words": len(corpus.split()),
            "sha256": hashlib.sha256(corpus).hexdigest(),
        },
        "eval": {
            "path": "corpus_eval.txt",
            "documents": len(eval_docs),
            "bytes": len(held),
            "sha256": hashlib.sha256(held).hexdigest(),
        },
        "inputs": [{"path": p, **v} for p, v in sorted(inputs.files.items())],
    }
    atomic_write(os.path.join(a.out, "manifest.json"), (json.dumps(manifest, indent=1) + "\n").encode())
    print(f"corpus     {len(all_docs):8d} docs {len(corpus) / 1e6:8.2f} MB -> {a.out}/corpus.txt", file=sys.stderr)


if __name__ == "__main__":
    main()
