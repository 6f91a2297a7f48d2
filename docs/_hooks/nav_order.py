"""mkdocs hook: the site's sections in reading order, whatever pages exist.

Without a ``nav:`` in mkdocs.yml, mkdocs lists the pages at the top of ``docs/`` and then one
section per folder, alphabetically. This hook keeps that automatic discovery (a new page needs no
edit anywhere) and only reorders and renames: Home, Tutorial, How-to guides, Reference,
Explanation; the loose pages at the top of ``docs/`` (design notes, reliability, architecture, the
STRESS-DES checklist …) go at the end of Explanation, since that is what they are.
"""
from __future__ import annotations

SECTIONS = {"tutorial": "Tutorial", "how-to": "How-to guides", "reference": "Reference", "explanation": "Explanation"}

# Within a section, these pages come first, in this order (those missing are skipped); any other
# page follows, alphabetically by file name.
READING_ORDER = {
    "how-to": ["compare-capacity-options.md", "sweep-and-sensitivity.md", "bring-your-own-observed-data.md",
               "calibrate-and-forecast.md", "backtest.md", "run-on-a-dask-cluster.md",
               "read-results-with-pandas.md"],
    "reference": ["scenario-format.md", "commands.md", "outputs.md", "uncertain-sample.md"],
    "explanation": ["model.md", "policy-phases.md", "observation-model.md", "posterior.md", "scoring.md",
                    "verification-and-validation.md", "limitations.md", "performance.md", "bundled-scenarios.md"],
}


def _reading_order(folder: str, children: list) -> list:
    preferred = READING_ORDER.get(folder, [])

    def key(item) -> tuple[int, str]:
        name = item.file.src_uri.split("/")[-1] if getattr(item, "file", None) is not None else item.title
        return (preferred.index(name) if name in preferred else len(preferred), name)

    return sorted(children, key=key)


def _folder(item) -> str | None:
    """The docs/ folder a section was built from (its first page's folder)."""
    for child in getattr(item, "children", None) or []:
        if getattr(child, "file", None) is not None:
            return child.file.src_uri.split("/", 1)[0]
        found = _folder(child)
        if found:
            return found
    return None


def on_nav(nav, config, files):
    home, sections, loose = [], {}, []
    for item in nav.items:
        if item.is_section:
            folder = _folder(item)
            if folder in SECTIONS:
                item.title = SECTIONS[folder]
                item.children = _reading_order(folder, item.children)
                sections[folder] = item
                continue
            loose.append(item)
        elif item.file is not None and item.file.src_uri == "index.md":
            home.append(item)
        else:
            loose.append(item)
    if loose and "explanation" in sections:
        explanation = sections["explanation"]
        for item in loose:
            item.parent = explanation
        explanation.children.extend(loose)
        loose = []
    nav.items = home + [sections[key] for key in SECTIONS if key in sections] + loose
    # Previous/next links at the foot of each page follow the new order.
    nav.pages = list(_pages(nav.items))
    for before, page in zip([None, *nav.pages], nav.pages, strict=False):
        page.previous_page = before
        if before is not None:
            before.next_page = page
    if nav.pages:
        nav.pages[-1].next_page = None
    return nav


def _pages(items):
    for item in items:
        if item.is_page:
            yield item
        elif item.is_section:
            yield from _pages(item.children)
