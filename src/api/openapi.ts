// PLACEHOLDER: the OpenAPI 3.1 document lands with the JSON API issue.
export const OPENAPI_DOCUMENT = { openapi: '3.1.0', info: { title: 'Portcullis JSON API', version: '1' }, paths: {} };
