//! Checks the user guide's sources (`docs/book/`, an mdBook) without mdBook: every Rust listing
//! is an `{{#include}}` of a compiled example (whose output `tests/examples.rs` checks), every
//! include and anchor resolves, every chapter is in the summary, links between chapters and to
//! the repository's files point at something, and the version in the install snippets is this
//! crate's.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace root").to_path_buf()
}

fn book_src() -> PathBuf {
    repo().join("docs/book/src")
}

/// Every chapter: (file name, text).
fn chapters() -> Vec<(String, String)> {
    let mut chapters: Vec<(String, String)> = std::fs::read_dir(book_src())
        .expect("docs/book/src")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).expect("a chapter"))
        })
        .collect();
    chapters.sort();
    chapters
}

/// The fenced code blocks of a chapter: (info string, body lines).
fn fences(text: &str) -> Vec<(String, Vec<String>)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, Vec<String>)> = None;
    for line in text.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => open = Some((info.trim().to_owned(), Vec::new())),
            (Some(_), Some(_)) => blocks.push(open.take().unwrap()),
            (Some((_, body)), None) => body.push(line.to_owned()),
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "an unclosed code fence");
    blocks
}

/// The `{{#include path[:anchor]}}` directives of a text.
fn includes(text: &str) -> Vec<(String, Option<String>)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{#include ") {
        let after = &rest[start + "{{#include ".len()..];
        let end = after.find("}}").expect("an unclosed {{#include");
        let target = after[..end].trim();
        found.push(match target.split_once(':') {
            Some((path, anchor)) => (path.to_owned(), Some(anchor.to_owned())),
            None => (target.to_owned(), None),
        });
        rest = &after[end..];
    }
    found
}

/// mdBook's id of a heading: lowercase, spaces to dashes, other punctuation dropped.
fn heading_id(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The markdown link targets `](target)` of a text.
fn links(text: &str) -> Vec<String> {
    text.split("](").skip(1).filter_map(|s| s.split_once(')').map(|(t, _)| t.to_owned())).collect()
}

#[test]
fn every_rust_listing_is_an_include_of_a_compiled_example() {
    for (chapter, text) in chapters() {
        for (info, body) in fences(&text) {
            if !info.starts_with("rust") {
                assert!(
                    ["text", "sh", "toml"].contains(&info.as_str()),
                    "{chapter}: a `{info}` code block (Rust listings must be includes)"
                );
                continue;
            }
            for line in body.iter().filter(|l| !l.trim().is_empty()) {
                assert!(
                    line.trim_start().starts_with("{{#include ../../../actors/examples/"),
                    "{chapter}: free-standing code in a Rust listing: {line:?}; include it from \
                     an example in actors/examples/ instead"
                );
            }
        }
    }
}

#[test]
fn every_include_and_anchor_resolves() {
    let mut count = 0;
    for (chapter, text) in chapters() {
        for (path, anchor) in includes(&text) {
            let file = book_src().join(&path);
            let source = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("{chapter}: cannot read {path}: {e}"));
            if let Some(anchor) = anchor {
                for marker in [format!("ANCHOR: {anchor}"), format!("ANCHOR_END: {anchor}")] {
                    assert!(
                        source.lines().any(|l| l.trim_end().ends_with(&marker)),
                        "{chapter}: {path} has no `{marker}`"
                    );
                }
            }
            count += 1;
        }
    }
    assert!(count > 20, "only {count} includes: is the book there?");
}

/// The lines between `ANCHOR: name` and `ANCHOR_END: name` of a source file.
fn anchored<'a>(source: &'a str, name: &str) -> Vec<&'a str> {
    let (start, end) = (format!("ANCHOR: {name}"), format!("ANCHOR_END: {name}"));
    source
        .lines()
        .skip_while(|l| !l.trim_end().ends_with(&start))
        .skip(1)
        .take_while(|l| !l.trim_end().ends_with(&end))
        .collect()
}

/// A reader copies a chapter's listings into a file of their own: the first listing taken from
/// an example shows that example's `use` lines, so that what is copied compiles.
#[test]
fn each_chapter_shows_the_imports_of_every_example_it_lists() {
    let mut checked = 0;
    for (chapter, text) in chapters() {
        let mut seen = BTreeSet::new();
        for (path, anchor) in includes(&text) {
            let Some(anchor) = anchor else { continue };
            if !path.ends_with(".rs") || !seen.insert(path.clone()) {
                continue;
            }
            let source = std::fs::read_to_string(book_src().join(&path)).expect("an example");
            assert!(
                anchored(&source, &anchor).iter().any(|l| l.starts_with("use actor12")),
                "{chapter}: the first listing from {path} (`{anchor}`) shows none of its `use` \
                 lines: include its `imports` anchor first"
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} examples' first listings found");
}

#[test]
fn the_summary_lists_every_chapter() {
    let summary = std::fs::read_to_string(book_src().join("SUMMARY.md")).expect("SUMMARY.md");
    let listed: BTreeSet<String> = links(&summary).into_iter().collect();
    let present: BTreeSet<String> =
        chapters().into_iter().map(|(name, _)| name).filter(|n| n != "SUMMARY.md").collect();
    assert_eq!(listed, present, "SUMMARY.md and the chapters in docs/book/src differ");
}

#[test]
fn links_point_at_something() {
    let chapters = chapters();
    let ids = |text: &str| -> BTreeSet<String> {
        let mut in_fence = false;
        let mut ids = BTreeSet::new();
        for line in text.lines() {
            in_fence ^= line.starts_with("```");
            if let Some(heading) = line.strip_prefix('#').filter(|_| !in_fence) {
                ids.insert(heading_id(heading.trim_start_matches('#')));
            }
        }
        ids
    };
    for (chapter, text) in &chapters {
        for link in links(text) {
            if let Some(path) = link
                .strip_prefix("https://github.com/actor12/actor12/blob/main/")
                .or_else(|| link.strip_prefix("https://github.com/actor12/actor12/tree/main/"))
            {
                assert!(
                    repo().join(path).exists(),
                    "{chapter}: {link}: no such file in the repository"
                );
            } else if !link.starts_with("https://") {
                let (file, anchor) = link.split_once('#').unwrap_or((&link, ""));
                let file = if file.is_empty() { chapter.as_str() } else { file };
                let (_, target) = chapters
                    .iter()
                    .find(|(name, _)| name == file)
                    .unwrap_or_else(|| panic!("{chapter}: link to a missing chapter: {link}"));
                assert!(
                    anchor.is_empty() || ids(target).contains(anchor),
                    "{chapter}: {link}: no heading `{anchor}` in {file}"
                );
            }
        }
    }
}

#[test]
fn install_snippets_name_this_version() {
    // "0.1.0" -> "0.1": what a Cargo.toml line should ask for.
    let version = env!("CARGO_PKG_VERSION");
    let wanted = version.rsplit_once('.').map_or(version, |(major_minor, _)| major_minor);
    let mut seen = 0;
    for (chapter, text) in chapters() {
        for (info, body) in fences(&text) {
            if info != "toml" {
                continue;
            }
            for line in body.iter().filter(|l| l.starts_with("actor12 =")) {
                assert!(
                    line.contains(&format!("\"{wanted}\"")),
                    "{chapter}: `{line}` does not ask for actor12 {wanted}"
                );
                seen += 1;
            }
        }
    }
    assert!(seen >= 2, "the install snippets were not found");
}
