"""The annual minors'-data audit (《未成年人网络保护条例》 art. 37): the audit pack each district
builds once a year from its records, and the data breaches recorded with their notices."""
