//! `rasp serve`: started on a free port, it serves the files of its folder
//! with their MIME types, and nothing outside the folder.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The server process, ended when the test ends (even on failure).
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rasp"))
        .args(["serve", &dir.display().to_string(), "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rasp serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("the address line");
    // "Serving DIR at http://127.0.0.1:PORT/ (Ctrl-C to stop)"
    let port = line
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    Server { child, port }
}

/// Sends `target` as the request target exactly as given (no client-side
/// clean-up of `..`), returns the status line, the headers and the body.
fn get(port: u16, target: &str) -> (String, String, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(stream, "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("a head");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let body = response[split + 4..].to_vec();
    let (status, headers) = head.split_once("\r\n").unwrap_or((&head, ""));
    (status.to_string(), headers.to_lowercase(), body)
}

#[test]
fn serves_the_folder_and_nothing_else() {
    let base = std::env::temp_dir().join(format!("rasp-serve-{}", std::process::id()));
    let dir = base.join("dist");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(base.join("Cargo.toml"), "[package]\nsecret = true\n").expect("write");
    std::fs::write(dir.join("index.html"), "<!doctype html><title>playground</title>").expect("write");
    let wasm = [0u8, b'a', b's', b'm', 1, 0, 0, 0];
    std::fs::write(dir.join("module.wasm"), wasm).expect("write");
    let server = start(&dir);

    let (status, headers, body) = get(server.port, "/");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(headers.contains("content-type: text/html; charset=utf-8"), "{headers}");
    assert_eq!(body, b"<!doctype html><title>playground</title>");
    let (status, _, body) = get(server.port, "/index.html?code=x%3D1&input=hello");
    assert_eq!((status.as_str(), body.len()), ("HTTP/1.1 200 OK", 40));

    let (status, headers, body) = get(server.port, "/module.wasm");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(headers.contains("content-type: application/wasm"), "{headers}");
    assert_eq!(body, wasm);

    for outside in ["/../Cargo.toml", "/%2e%2e/Cargo.toml", "/..%2fCargo.toml"] {
        let (status, _, body) = get(server.port, outside);
        assert_eq!(status, "HTTP/1.1 403 Forbidden", "{outside}");
        assert!(!String::from_utf8_lossy(&body).contains("secret"), "{outside}");
    }
    assert_eq!(get(server.port, "/missing.js").0, "HTTP/1.1 404 Not Found");

    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    write!(stream, "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    assert!(response.starts_with("HTTP/1.1 405"), "{response}");
    drop(server);
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn refuses_a_missing_folder() {
    let out = Command::new(env!("CARGO_BIN_EXE_rasp"))
        .args(["serve", "/nonexistent/rasp-serve-folder", "--port", "0"])
        .output()
        .expect("run rasp serve");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a folder"));
}
