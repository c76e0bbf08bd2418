"""The township roll-up package (乡镇汇总): a centre school compiles its village schools' approved
figures for one period of a VIA_CENTRE report type, side by side with its own, into one XLSX and
one DOCX. Reads here (selectors, downloads); the writes are submissions.services.township, the
job submissions.compile.township."""
