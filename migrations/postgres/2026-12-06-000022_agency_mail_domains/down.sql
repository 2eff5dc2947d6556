DROP INDEX agency_mail_domains_of_agency;
DROP TABLE agency_mail_domains;
