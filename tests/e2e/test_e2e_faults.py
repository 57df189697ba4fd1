"""Faults typed at the prompt of real `ocppsim` processes, seen by the other process."""

from __future__ import annotations

from harness import SimProcess, frame_re, free_port, start_cs


def test_faults_typed_at_either_prompt_reach_the_other_process() -> None:
    port = free_port()
    with start_cs(port, "-u", "/ocpp") as cs:
        cp = SimProcess(
            # stateless: only the CALLs typed go (a model would boot and report on its own)
            ["start_cp", f"ws://127.0.0.1:{port}/ocpp", "cp01", "-p", "ocpp1.6", "--stateless"],
            name="cp#cp01",
            env={"OCPPSIM_RETRY_SECONDS": "0.2"},
        )
        with cp:
            cp.expect(r"Connected to Central System\.")
            # the Central System answers the next CALL with the CALLERROR chosen
            cs.send("fault callerror --code SecurityError --description no --once")
            cs.expect(r"cs: fault set: CALLERROR SecurityError answers to every charge point, once")
            cp.send("heartbeat")
            cp.expect(r'cp#cp01: <<cs \[4,"\w+","SecurityError","no",\{\}\]')
            cs.expect(r"cs: fault: CALLERROR answers to cp#cp01: answer #\w+ to Heartbeat is")
            cs.expect(r"cs: fault over: ")
            # the Charge Point sends its next frame twice
            cp.send("fault duplicate --once")
            cp.expect(r"cp#cp01: fault set: duplicate frames, once")
            cp.send("heartbeat")
            first = cs.expect(frame_re("cs", "<<", "cp#cp01", 2, action="Heartbeat"))
            cs.expect(frame_re("cs", "<<", "cp#cp01", 2, unique_id=first["uid"]))
            cp.expect(rf"WARNING : no pending CALL #{first['uid']}, answer ignored")
            # a TCP reset from the Central System: the charge point sees 1006 and dials again
            cs.send("fault reset --remote-id cp01")
            cp.expect(r"Connection lost \(1006 abnormal closure\), retry in 0\.2 seconds\.")
            cp.expect(r"Connected to Central System\.")
            cs.send("fault list")
            cs.expect(r"^(> )?No fault is set\.$")
            unexpected = cs.errors(ignore=[r"SecurityError"]) + cp.errors(
                ignore=[r"SecurityError", r"no pending CALL", r"Connection lost \(1006"]
            )
            assert unexpected == []
