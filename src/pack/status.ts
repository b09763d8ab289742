// Reason phrases of every status speck sends (RFC 9110, section 15).

export const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: "OK",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  414: "URI Too Long",
  416: "Range Not Satisfiable",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/** `HTTP/1.1 404 Not Found\r\n` */
export function statusLine(status: number): string {
  const text = STATUS_TEXT[status];
  if (!text) throw new Error(`no reason phrase for status ${status}`);
  return `HTTP/1.1 ${status} ${text}\r\n`;
}
