"""sMsmode's batch mode (section 17, ``sendSMSBatch.do``): one text per recipient, in a file.

This is part of the sMsmode adapter: :class:`SmsmodeBatchFile` holds its batch-file methods
and :class:`dispatcher.providers.smsmode.SmsmodeProvider` inherits them (one module would
pass 450 lines); the file's format is built by pure functions.

Personalised campaigns go this way: one POST carries up to 1000 recipients, each with its own
text, as a CSV file uploaded in a multipart/form-data field ``fichier`` (the curl example's
``-F "fichier=@fichier.csv;type=text/csv"``); the other parameters travel in the query string
as the example's ``accessToken`` does. The answer is sendSMS.do's ``code | description |
campagneID``. What this module decides where the document is silent or inconsistent:

- The header is the French v3.1's four names ``"numero","message","emetteur","refClient"``:
  the English v3.3 prints three names over rows of four values.
- Each row's ``emetteur`` is the campaign's sender, or empty (the document's second row) with
  replies; the query string carries the same value, so either source gives the same result.
- Each row's ``refClient`` is the batch's reference (``b<batch id>``), the query's value too:
  the note "only number, message, sender ID can be dealt with by the batch file" means a
  per-row value may be ignored, and callbacks must carry ``b<batch id>`` back either way
  (:func:`dispatcher.domain.refs.batch_id_from_client_ref`). Reports are matched by number
  within the batch's submission, as for sendSMS.do: numbers are unique in a campaign.
- Every field is quoted (the example quotes some numbers and not others); lines end in CRLF
  (RFC 4180, and what spreadsheets write); a newline inside a text stays inside its quotes.
- The file is ISO-8859-15 (section 17), strictly: a character outside sMsmode's table is
  refused before sending (:meth:`SmsmodeBatchFile.validate_texts`), never sent as "?".
  Batch mode has no Unicode class (``classe_msg`` is 2 or 4 only) and no ``stop`` parameter.
"""

from __future__ import annotations

import csv
import io
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import replace

import httpx

from dispatcher.domain.models import OutboundBatch
from dispatcher.domain.options import CampaignOptions
from dispatcher.domain.text import Encoding
from dispatcher.errors import BatchTooLargeError, ConfigurationError, Problem, UnsendableBatchError
from dispatcher.providers.base import Provider

PATH = "/http/1.6/sendSMSBatch.do"  # section 17
FIELD, FILENAME, FILE_TYPE = "fichier", "fichier.csv", "text/csv"  # the curl example's -F
CHARSET = "iso-8859-15"  # section 17: "The file encoding should be under ISO-8859-15 format"
HEADER = ("numero", "message", "emetteur", "refClient")  # the French v3.1's header
METHOD = "POST"  # a file upload: there is no GET form
MAX_ROW_PROBLEMS = 10  # rows reported one by one; the rest are counted
NO_UNICODE = "batch mode (section 17) has no Unicode class (classe_msg=9)"


class SmsmodeBatchFile(Provider):
    """The batch-file half of the sMsmode adapter (section 17); the adapter inherits it."""

    def validate_texts(
        self,
        *,
        texts: Sequence[str],
        sender: str | None,
        options: CampaignOptions,
        encoding: Encoding | None = None,
    ) -> list[Problem]:
        """What keeps these texts from going by batch file, ``validate``'s rules included.

        The sender and options are checked once; each distinct text is checked as GSM (the
        file is ISO-8859-15) at the first row holding it (``row``: 1-based, the file's line
        after the header). Past :data:`MAX_ROW_PROBLEMS` such problems, one more counts the
        rest.
        """
        found: list[Problem] = []
        if encoding is Encoding.UNICODE:
            found.append(Problem("encoding", f"{NO_UNICODE}: personalised texts must be GSM"))
        if options.stop is not None:
            message = (
                "batch mode (section 17) has no stop parameter: write the mention in the texts"
            )
            found.append(Problem("options.stop", message, value=str(options.stop)))
        rest = options.model_copy(update={"stop": None})
        # "." is a text with no problem: only the sender's and the options' are left.
        found += self.validate(text=".", sender=sender, options=rest, encoding=Encoding.GSM)
        if not texts:
            found.append(Problem("texts", "is empty"))
        return found + self._row_problems(texts)

    def _row_problems(self, texts: Sequence[str]) -> list[Problem]:
        rows: list[Problem] = []
        plain = self.options_model()
        for row, text in _first_rows(texts):
            outside = self.measure(text).non_gsm
            if outside:
                message = f"characters outside sMsmode's ISO-8859-15 table; {NO_UNICODE}"
                rows.append(Problem("text", message, row=row, value="".join(outside)))
            checked = self.validate(text=text, sender=None, options=plain, encoding=Encoding.GSM)
            rows += [replace(problem, row=row) for problem in checked]
        if len(rows) > MAX_ROW_PROBLEMS:
            more = len(rows) - MAX_ROW_PROBLEMS
            rows[MAX_ROW_PROBLEMS:] = [Problem("texts", f"{more} more problem(s) in later rows")]
        return rows

    def check_batch_file(self, batch: OutboundBatch) -> None:
        """``check_batch`` for a batch with ``texts``: its size, then every problem at once."""
        texts = batch.texts or ()
        limit = min(self.max_recipients[METHOD], self.batch_size(METHOD))
        if len(batch.msisdns) > limit:
            raise BatchTooLargeError(
                f"batch {batch.batch_id} has {len(batch.msisdns)} recipients; {self.name} takes "
                f"at most {limit} per batch file"
            )
        found: list[Problem] = []
        if batch.method != METHOD:
            message = "a batch file (section 17) is uploaded by POST only"
            found.append(Problem("method", message, value=batch.method))
        if len(texts) != len(batch.msisdns):
            message = f"{len(texts)} texts for {len(batch.msisdns)} recipients"
            found.append(Problem("texts", message))
        found += self.validate_texts(
            texts=texts, sender=batch.sender, options=batch.options, encoding=batch.encoding
        )
        if found:
            raise UnsendableBatchError(self.name, batch.batch_id, found)

    def batch_file_nbr_msg(self, texts: Sequence[str]) -> int:
        """The parts the longest row needs: nbr_msg truncates past it (section 17, default 5)."""
        segments = (self.measure(text, force=Encoding.GSM).segments for text in texts)
        return max(segments, default=1)

    def batch_file_request(
        self, batch: OutboundBatch, params: Sequence[tuple[str, str]]
    ) -> httpx.Request:
        """The upload: ``params`` in the query string, a row per recipient in the file.

        Each row's emetteur is the query's (none with replies), its refClient the batch's.
        """
        if batch.method != METHOD:
            raise ConfigurationError(
                f"a batch file (section 17) is uploaded by POST, not {batch.method}"
            )
        sender = dict(params).get("emetteur", "")
        texts = batch.texts or ()
        rows = [
            (n, text, sender, batch.client_ref)
            for n, text in zip(batch.msisdns, texts, strict=True)
        ]
        query = urllib.parse.urlencode(params)
        files = {FIELD: (FILENAME, csv_file(rows), FILE_TYPE)}
        return httpx.Request(METHOD, f"{self.url(PATH)}?{query}", files=files)


def csv_file(rows: Iterable[Sequence[str]]) -> bytes:
    """The header and ``rows`` (numero, message, emetteur, refClient), every field quoted.

    Raises UnicodeEncodeError for a character ISO-8859-15 lacks: ``validate_texts`` refuses
    such texts first, and a "?" must never reach a recipient.
    """
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode(CHARSET)


def _first_rows(texts: Sequence[str]) -> list[tuple[int, str]]:
    """Each distinct text with the 1-based row where it first appears."""
    first: dict[str, int] = {}
    for row, text in enumerate(texts, 1):
        first.setdefault(text, row)
    return [(row, text) for text, row in first.items()]
