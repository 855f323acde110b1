//! `rasp draw` run as a program.

mod common;

use common::{example, rasp_in, scratch, text};

#[test]
fn default_path_is_the_references() {
    let dir = scratch("default");
    let out = rasp_in(&dir, &["draw", &example("reverse.rasp"), "--sop", "reverse"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "comp_flows/reverse(\"hello\").svg\n");
    let svg = std::fs::read_to_string(dir.join("comp_flows/reverse(\"hello\").svg")).expect("written");
    assert!(svg.starts_with("<?xml") && svg.contains(">flip</tspan>"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn svg_and_html_outputs() {
    let dir = scratch("outputs");
    let out = rasp_in(&dir, &["draw", &example("histogram.rasp"), "--sop", "hist", "--input", "aabac", "-o", "h.svg"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "h.svg\n");
    let svg = std::fs::read_to_string(dir.join("h.svg")).expect("svg");
    assert!(svg.contains("hist(&quot;aabac&quot;)"));
    let out = rasp_in(
        &dir,
        &["draw", &example("reverse.rasp"), "--sop", "reverse", "--input", "[1, 2, 3]", "-o", "out/r.html"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(dir.join("out/r.html")).expect("html");
    assert!(html.starts_with("<!DOCTYPE html>") && !html.contains("http"));
    assert!(html.contains("reverse([1, 2, 3])"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn list_inputs_name_the_file_as_python_does() {
    let dir = scratch("list");
    let out = rasp_in(&dir, &["draw", &example("reverse.rasp"), "--sop", "reverse", "--input", "[\"a\", 2]"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "comp_flows/reverse(['a', 2]).svg\n");
    // A quoted string may start with a bracket.
    let out = rasp_in(&dir, &["draw", &example("dyck.rasp"), "--sop", "dyck3", "--input", "\"[()]\"", "-o", "d.svg"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn errors_are_clear() {
    let dir = scratch("errors");
    let out = rasp_in(&dir, &["draw", &example("reverse.rasp"), "--sop", "reverse", "--input", "[()]"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("quote it"), "{}", text(&out.stderr));
    let out = rasp_in(&dir, &["draw", &example("reverse.rasp"), "--sop", "reverse", "--input", "[1, 2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("incomplete"), "{}", text(&out.stderr));
    let out = rasp_in(&dir, &["draw", &example("reverse.rasp"), "--sop", "flip"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("is a selector"), "{}", text(&out.stderr));
    let out = rasp_in(&dir, &["draw", &example("reverse.rasp"), "--sop", "nothing"]);
    assert!(text(&out.stderr).contains("nothing is not defined"), "{}", text(&out.stderr));
    let out = rasp_in(&dir, &["draw", &example("reverse.rasp"), "--sop", "reverse", "--input", "[]"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("empty"), "{}", text(&out.stderr));
    assert!(!dir.join("comp_flows").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
