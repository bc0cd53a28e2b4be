"""Every Beanie document of the service: what ``connect`` binds and the tests empty."""

from beanie import Document

from .events import Event
from .events.webhooks import Webhook, WebhookDelivery
from .models import DOCUMENTS as MODEL_DOCUMENTS
from .models.disposition import Disposition
from .models.import_job import ImportFailedRow, ImportJob
from .models.interaction import Interaction
from .models.merge import MergeRecord
from .models.phone_claims import PhoneClaim
from .models.segment import Segment

DOCUMENTS: list[type[Document]] = [*MODEL_DOCUMENTS, Event, Webhook, WebhookDelivery]
DOCUMENTS += [PhoneClaim, MergeRecord, Interaction, Disposition]
DOCUMENTS += [ImportJob, ImportFailedRow]
DOCUMENTS += [Segment]
