"""/v1/investigations/{id}/evidence (GET; POST is the acquire action's generated route), .../custody and
.../report, and .../evidence/uploads (presigned uploads; .../evidence/objects is the register action's)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from service.api.deps import CallerDep, ClockDep, ReaderDep, SessionDep, SettingsDep
from service.api.responses import report_response
from service.api.routes.investigations import InvestigationId
from service.api.schemas import ERROR_RESPONSES
from service.custody import ledger, service, uploads
from service.custody.schemas import ArtifactOut, CustodyEventOut, CustodyOut, UploadOut, UploadRequest

router = APIRouter(prefix="/v1/investigations", tags=["custody"], responses=ERROR_RESPONSES)


@router.get("/{investigation_id}/evidence", response_model=list[ArtifactOut])
def list_evidence(investigation_id: InvestigationId, session: SessionDep, _: ReaderDep) -> list[ArtifactOut]:
    """Every artifact acquired into the investigation, with its source, copy and hashes."""
    return [ArtifactOut.model_validate(a) for a in service.list_evidence(session, investigation_id)]


@router.get("/{investigation_id}/custody", response_model=CustodyOut)
def custody(
    investigation_id: InvestigationId, session: SessionDep, settings: SettingsDep, _: ReaderDep
) -> CustodyOut:
    """The custody chain: every event of every artifact, hash-chained, and whether the chain is intact (in
    itself, and against its mirrored copies and signed heads in the evidence bucket)."""
    events, check = service.witnessed_custody(settings, session, investigation_id)
    return CustodyOut(
        investigation_id=investigation_id,
        chain_ok=check.ok,
        chain_problem=None if check.ok else ledger.describe(check),
        events=[CustodyEventOut.model_validate(e) for e in events],
    )


@router.get(
    "/{investigation_id}/report",
    response_class=Response,
    responses={
        200: {
            "content": {"text/html": {}, "application/pdf": {}},
            "description": "The custody report as HTML (default) or PDF",
        }
    },
)
def custody_report(
    investigation_id: InvestigationId,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    principal: ReaderDep,
    as_format: Annotated[Literal["html", "pdf"], Query(alias="format")] = "html",
) -> Response:
    """Case summary, timeline, evidence with hashes and custody events, policy results, and the signed
    statements with their verification, for counsel."""
    content = service.build_report(settings, session, investigation_id, principal.name, clock())
    return report_response(content, as_format)


@router.post(
    "/{investigation_id}/evidence/uploads", status_code=status.HTTP_201_CREATED, response_model=UploadOut
)
def request_upload(investigation_id: InvestigationId, body: UploadRequest, caller: CallerDep) -> UploadOut:
    """Upload a file as evidence (responders): declare its SHA-256 and get a presigned PUT into
    incoming/evidence-artifacts/<artifact>/<filename>, valid 15 minutes. Send exactly the returned headers:
    S3 refuses a body that does not hash to the declared SHA-256. Then register the key
    (POST .../evidence/objects) to have the service hash it and record it as verified."""
    artifact, upload = uploads.issue_upload(caller, investigation_id, body)
    caller.commit()
    return UploadOut(artifact=ArtifactOut.model_validate(artifact), upload=upload)
