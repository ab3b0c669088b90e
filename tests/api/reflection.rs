//! Server reflection, v1 and v1alpha, as grpcurl, Postman and evans use it: services are
//! listed, documentation is included, and the rich error detail types resolve.

use prost::Message;
use prost_types::FileDescriptorProto;
use tonic_reflection::pb::{v1, v1alpha};

use crate::helpers::TestApp;

#[tokio::test]
async fn v1_lists_services_and_resolves_symbols_with_docs() {
    let app = TestApp::spawn().await;
    let mut client = v1::server_reflection_client::ServerReflectionClient::new(app.channel());
    let ask = |request: v1::server_reflection_request::MessageRequest| v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let requests = vec![
        ask(v1::server_reflection_request::MessageRequest::ListServices(String::new())),
        ask(v1::server_reflection_request::MessageRequest::FileContainingSymbol("followup.v1.Unit".into())),
        ask(v1::server_reflection_request::MessageRequest::FileContainingSymbol("google.rpc.BadRequest".into())),
        ask(v1::server_reflection_request::MessageRequest::FileContainingSymbol("google.rpc.ErrorInfo".into())),
    ];
    let mut responses = client.server_reflection_info(tokio_stream::iter(requests)).await.unwrap().into_inner();
    let mut answers = Vec::new();
    while let Some(response) = responses.message().await.unwrap() {
        answers.push(response.message_response.unwrap());
    }
    let v1::server_reflection_response::MessageResponse::ListServicesResponse(list) = &answers[0] else {
        panic!("{:?}", answers[0])
    };
    let services: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    assert!(services.contains(&"followup.v1.UnitService"), "{services:?}");
    assert!(services.contains(&"grpc.health.v1.Health"), "{services:?}");

    for (answer, (package, message)) in
        answers[1..].iter().zip([("followup.v1", "Unit"), ("google.rpc", "BadRequest"), ("google.rpc", "ErrorInfo")])
    {
        let v1::server_reflection_response::MessageResponse::FileDescriptorResponse(files) = answer else {
            panic!("{answer:?}")
        };
        let descriptors: Vec<FileDescriptorProto> = files
            .file_descriptor_proto
            .iter()
            .map(|bytes| FileDescriptorProto::decode(bytes.as_slice()).unwrap())
            .collect();
        let found = descriptors
            .iter()
            .find(|d| d.package() == package && d.message_type.iter().any(|m| m.name() == message))
            .unwrap_or_else(|| panic!("{package}.{message} not served"));
        if message == "Unit" {
            let comments = found.source_code_info.as_ref().expect("documentation is served").location.iter();
            assert!(comments.filter_map(|l| l.leading_comments.as_deref()).any(|c| c.contains("A unit: an agency")));
        }
    }
}

#[tokio::test]
async fn v1alpha_answers_for_older_clients() {
    let app = TestApp::spawn().await;
    let mut client = v1alpha::server_reflection_client::ServerReflectionClient::new(app.channel());
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1alpha::server_reflection_request::MessageRequest::FileContainingSymbol(
            "followup.v1.UnitService".into(),
        )),
    };
    let mut responses = client.server_reflection_info(tokio_stream::iter(vec![request])).await.unwrap().into_inner();
    let answer = responses.message().await.unwrap().unwrap().message_response.unwrap();
    assert!(
        matches!(answer, v1alpha::server_reflection_response::MessageResponse::FileDescriptorResponse(_)),
        "{answer:?}"
    );
}
