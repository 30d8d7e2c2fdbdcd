//! A streamed response through the real Runtime API server, written byte for byte over TCP
//! as a runtime writes it (chunked, with HTTP trailers), with the driver's side played here.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::{Chunk, StreamEnd, StreamGrant};
use crate::emulator::pool::{Outcome, Reply};
use crate::emulator::runtime_api::{Answer, ApiCall, RuntimeApi};

const HEAD: &str = "POST /2018-06-01/runtime/invocation/req-1/response HTTP/1.1\r\n\
    Host: runtime\r\n\
    Lambda-Runtime-Function-Response-Mode: streaming\r\n\
    Transfer-Encoding: chunked\r\n\
    Content-Type: application/vnd.awslambda.http-integration-response\r\n\
    Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n";

fn chunk(data: &[u8]) -> Vec<u8> {
    let mut c = format!("{:x}\r\n", data.len()).into_bytes();
    c.extend_from_slice(data);
    c.extend_from_slice(b"\r\n");
    c
}

/// Starts a Runtime API whose only allowed caller is this test process, and connects to it.
async fn connect() -> (RuntimeApi, mpsc::Receiver<ApiCall>, TcpStream) {
    let (tx, calls) = mpsc::channel(8);
    let api = RuntimeApi::start(tx).await.unwrap();
    api.allow(std::process::id());
    let conn = TcpStream::connect(api.addr()).await.unwrap();
    conn.set_nodelay(true).unwrap();
    (api, calls, conn)
}

/// Plays the driver: grants the stream for `req-1`; returns the client's outcome receiver
/// and the stream's end.
async fn grant(
    calls: &mut mpsc::Receiver<ApiCall>,
) -> (
    tokio::sync::oneshot::Receiver<Outcome>,
    tokio::sync::oneshot::Receiver<StreamEnd>,
) {
    let call = tokio::time::timeout(Duration::from_secs(5), calls.recv())
        .await
        .unwrap()
        .unwrap();
    let ApiCall::Stream { request_id, reply } = call else {
        panic!("not a stream call: {call:?}");
    };
    assert_eq!(request_id, "req-1");
    let (client, outcome) = Reply::new();
    let (end, ended) = tokio::sync::oneshot::channel();
    reply.send(Ok(StreamGrant { reply: client, end })).unwrap();
    (outcome, ended)
}

async fn answer_of(conn: &mut TcpStream) -> String {
    let mut buf = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn chunks_reach_the_client_as_they_are_written_and_the_runtime_gets_202_at_the_end() {
    let (_api, mut calls, mut conn) = connect().await;
    conn.write_all(HEAD.as_bytes()).await.unwrap();
    conn.write_all(&chunk(
        br#"{"statusCode":200,"headers":{"content-type":"text/plain"}}"#,
    ))
    .await
    .unwrap();
    let (outcome, ended) = grant(&mut calls).await;
    conn.write_all(&chunk(b"\0\0\0\0\0\0\0\0one"))
        .await
        .unwrap();
    let Ok(Outcome::Streamed(mut s)) = outcome.await else {
        panic!("no stream");
    };
    assert_eq!(s.prelude.status, http::StatusCode::OK);
    // The first chunk arrives while the runtime's POST is still open.
    let Some(Chunk::Data(d)) = s.body.recv().await else {
        panic!("no first chunk");
    };
    assert_eq!(&d[..], b"one");
    conn.write_all(&chunk(b"two")).await.unwrap();
    let Some(Chunk::Data(d)) = s.body.recv().await else {
        panic!("no second chunk");
    };
    assert_eq!(&d[..], b"two");
    conn.write_all(b"0\r\n\r\n").await.unwrap();
    assert!(matches!(s.body.recv().await, Some(Chunk::End)));
    assert_eq!(ended.await.unwrap(), StreamEnd::Complete);
    assert!(answer_of(&mut conn).await.starts_with("HTTP/1.1 202"));
}

#[tokio::test]
async fn error_trailers_cut_the_clients_stream_and_reach_the_driver() {
    let (_api, mut calls, mut conn) = connect().await;
    conn.write_all(HEAD.as_bytes()).await.unwrap();
    conn.write_all(&chunk(b"{}\0\0\0\0\0\0\0\0one"))
        .await
        .unwrap();
    let (outcome, ended) = grant(&mut calls).await;
    let Ok(Outcome::Streamed(mut s)) = outcome.await else {
        panic!("no stream");
    };
    assert!(matches!(s.body.recv().await, Some(Chunk::Data(_))));
    conn.write_all(
        b"0\r\nLambda-Runtime-Function-Error-Type: Runtime.StreamError\r\n\
          Lambda-Runtime-Function-Error-Body: Ym9vbQ==\r\n\r\n",
    )
    .await
    .unwrap();
    // No `End`: the channel closes, which cuts the client's response.
    assert!(s.body.recv().await.is_none());
    assert_eq!(
        ended.await.unwrap(),
        StreamEnd::FunctionError {
            error_type: "Runtime.StreamError".into(),
            body: "boom".into()
        }
    );
    assert!(answer_of(&mut conn).await.starts_with("HTTP/1.1 202"));
}

#[tokio::test]
async fn a_refused_stream_is_answered_at_once() {
    let (_api, mut calls, mut conn) = connect().await;
    conn.write_all(HEAD.as_bytes()).await.unwrap();
    let Some(ApiCall::Stream { reply, .. }) = calls.recv().await else {
        panic!("no stream call");
    };
    reply.send(Err(Answer::InvalidRequestId)).unwrap();
    assert!(answer_of(&mut conn).await.starts_with("HTTP/1.1 400"));
}

#[tokio::test]
async fn nextr_invoke_reads_a_stream_into_a_payload_document() {
    let (tx, rx) = mpsc::channel(4);
    let streamed = super::Streamed {
        prelude: super::prelude::Prelude::parse(
            br#"{"statusCode":201,"headers":{"content-type":"text/plain"},"cookies":["a=1"]}"#,
        )
        .unwrap(),
        body: rx,
    };
    tx.send(Chunk::Data(bytes::Bytes::from_static(b"one ")))
        .await
        .unwrap();
    tx.send(Chunk::Data(bytes::Bytes::from_static(b"two")))
        .await
        .unwrap();
    tx.send(Chunk::End).await.unwrap();
    let Outcome::Response(doc) = streamed.into_payload().await else {
        panic!("not a response");
    };
    let doc: serde_json::Value = serde_json::from_slice(&doc).unwrap();
    assert_eq!(
        doc,
        serde_json::json!({
            "statusCode": 201,
            "headers": {"content-type": "text/plain"},
            "cookies": ["a=1"],
            "body": "one two",
            "isBase64Encoded": false,
        })
    );

    // A cut stream is a function error.
    let (tx, rx) = mpsc::channel(4);
    let streamed = super::Streamed {
        prelude: super::prelude::raw(None),
        body: rx,
    };
    tx.send(Chunk::Data(bytes::Bytes::from_static(b"x")))
        .await
        .unwrap();
    drop(tx);
    assert!(matches!(
        streamed.into_payload().await,
        Outcome::Failed(e) if e.error_type().as_deref() == Some("Runtime.StreamCut")
    ));
}
