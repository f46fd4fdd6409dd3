"""The Gradio app: a thin shell over the runtime's domain services."""

from __future__ import annotations

from interviewer.runtime import Runtime


def build_app(rt: Runtime):
    import gradio as gr

    bank = rt.bank
    with gr.Blocks(title="딥러닝 모의 면접") as demo:
        gr.Markdown(f"# 딥러닝 모의 면접\n질문 {len(bank.cards)}개가 준비되어 있습니다.")
    return demo


def serve(rt: Runtime, host: str = "127.0.0.1", port: int = 7860) -> None:
    build_app(rt).launch(server_name=host, server_port=port, show_error=True)
