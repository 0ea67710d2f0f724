Attribute VB_Name = "PelotonTable"
' =PELOTON_METRIC where Python cannot answer: Excel for Mac has no Python worksheet functions, so
' there the wrapper (xlwings_udfs) calls MetricFromTable, which reads this workbook's own Metrics
' table. Same arguments and the same error values as the Python side (pelotonxl/excel/functions.py):
' a Workout ID, a date or date-time, "latest" or "latest ride" (run, row, walk, or a discipline's name);
' a metric slug or its name, any case;
' #VALUE! for an argument that is none of those, #N/A for a workout or metric that is not there.
' Built from workbook/vba/PelotonTable.bas by `python -m pelotonxl.template.build`: edit that file.
Option Explicit

Private Const ERR_NA As Long = 2042     ' xlErrNA
Private Const ERR_VALUE As Long = 2015  ' xlErrValue
Private Const TABLE_NAME As String = "Metrics"
Private Const LAST_SERIAL As Double = 2958466  ' 10000-01-01: past Excel's last date

' The index: the Metrics table's Workout ID, Start and Discipline columns read once and kept between
' calls, so a recalculation of many PELOTON_METRIC cells reads them once, not once per cell. A call
' uses it only while all of these hold, and builds it again otherwise:
'  1. it was built less than INDEX_SECONDS ago (one recalculation; Timer restarts at midnight: then too);
'  2. the table's sheet and address (rows added or removed by a refresh, a moved table), the positions of
'     its Workout ID, Start and Discipline columns and its first and last Workout IDs are those it was
'     built from (a refresh, a sort or a reordering of the columns changes one of them);
'  3. the row an answer comes from still holds the Workout ID (and Start) the index read there, checked
'     in the sheet on every answer: a sort that kept the first and last rows is caught here;
'  4. a Workout ID the index lacks is looked for again in a fresh index before the answer is #N/A.
' So an answer for a Workout ID is always the sheet's; "latest" or a date can miss, for at most
' INDEX_SECONDS, only a hand edit of a Start or Discipline cell on a row other than the one answered.
' A Collection keyed by Workout ID: VBA's own hashed lookup, on Windows and on a Mac alike (there is
' no Scripting.Dictionary on a Mac).
Private Const INDEX_SECONDS As Single = 2
Private idRows As Collection           ' LCase(Trim(Workout ID)) -> row (1 = first data row)
Private indexIds As Variant, indexStarts As Variant, indexKinds As Variant  ' the columns, as read
Private indexKey As String             ' condition 2, as it was when built
Private indexBuilt As Single           ' Timer when built

Public Function MetricFromTable(ByVal workout As Variant, ByVal metric As Variant) As Variant
    Dim table As ListObject, headers As Variant
    Dim idCol As Long, startCol As Long, kindCol As Long, row As Long, col As Long
    Dim wanted As String, value As Variant

    MetricFromTable = CVErr(ERR_NA)
    If IsObject(workout) Then workout = workout.Cells(1, 1).Value2
    If IsObject(metric) Then metric = metric.Cells(1, 1).Value2
    On Error GoTo notThere ' a cell that is not text: no answer
    Set table = MetricsTable()
    If table Is Nothing Then Exit Function ' no Metrics table
    If table.DataBodyRange Is Nothing Then Exit Function
    headers = RowValues(table.HeaderRowRange)
    idCol = HeaderColumn(headers, "Workout ID")
    startCol = HeaderColumn(headers, "Start")
    kindCol = HeaderColumn(headers, "Discipline")
    If idCol = 0 Or startCol = 0 Then Exit Function

    row = IndexedWorkoutRow(table, idCol, startCol, kindCol, workout)
    If row < 0 Then
        MetricFromTable = CVErr(ERR_VALUE)
        Exit Function
    End If
    If row = 0 Then Exit Function

    ' Headers read "Avg Output (watts)": a slug or a name, with or without the unit, finds them.
    wanted = SlugAsName(NameKey(CStr(metric)))
    For col = 1 To UBound(headers, 2)
        If col <> idCol And col <> startCol And col <> kindCol Then
            If NameKey(CStr(headers(1, col))) = wanted Or _
               NameKey(WithoutUnit(CStr(headers(1, col)))) = wanted Then
                value = table.DataBodyRange.Cells(row, col).Value2
                ' Numbers only, as from Python: an empty cell (a bike's miles on a rower's row) is no answer.
                If VarType(value) <> vbString And Not IsEmpty(value) And IsNumeric(value) Then
                    MetricFromTable = CDbl(value)
                    Exit Function
                End If
            End If
        End If
    Next col
    Exit Function ' #N/A: an unknown metric, or one this workout lacks
notThere:
    MetricFromTable = CVErr(ERR_NA)
End Function

' The Metrics table on whichever sheet holds it (the member may rename or move that sheet, as the
' refresh allows); Nothing when the workbook has none.
Private Function MetricsTable() As ListObject
    Dim sheet As Worksheet, candidate As ListObject
    For Each sheet In ThisWorkbook.Worksheets
        For Each candidate In sheet.ListObjects
            If StrComp(candidate.Name, TABLE_NAME, vbTextCompare) = 0 Then
                Set MetricsTable = candidate
                Exit Function
            End If
        Next candidate
    Next sheet
End Function

' WorkoutRow from a current index (see "The index" above): built again when stale, when the row it
' answers no longer holds what it read there, or when it lacks the Workout ID asked for.
Private Function IndexedWorkoutRow(ByVal table As ListObject, ByVal idCol As Long, ByVal startCol As Long, _
                                   ByVal kindCol As Long, ByVal workout As Variant) As Long
    Dim key As String, fresh As Boolean, attempt As Long
    key = TableKey(table, idCol, startCol, kindCol)
    For attempt = 1 To 2
        fresh = False
        If Not IndexCurrent(key) Then
            BuildIndex table, idCol, startCol, kindCol, key
            fresh = True
        End If
        IndexedWorkoutRow = WorkoutRow(workout)
        If IndexedWorkoutRow > 0 Then
            If RowUnchanged(table, IndexedWorkoutRow, idCol, startCol) Then Exit Function
        ElseIf IndexedWorkoutRow < 0 Or fresh Or VarType(workout) <> vbString Then
            Exit Function ' not a workout argument, or an index just read from the sheet
        ElseIf Not IsWorkoutId(LCase$(Trim$(workout))) Then
            Exit Function ' "latest <kind>" or a date with no workout: the index is current by conditions 1-2
        End If
        If fresh Then Exit Function
        indexKey = "" ' stale after all: read the sheet again, once
    Next attempt
End Function

' Conditions 1 and 2: built from the table as `key` describes it, less than INDEX_SECONDS ago.
Private Function IndexCurrent(ByVal key As String) As Boolean
    Dim clock As Single
    If idRows Is Nothing Or indexKey = "" Or key <> indexKey Then Exit Function
    clock = Timer
    IndexCurrent = clock >= indexBuilt And clock - indexBuilt < INDEX_SECONDS
End Function

' What a refresh, a sort or a moved column changes: the table's sheet and address, the three columns'
' positions, its first and last Workout IDs.
Private Function TableKey(ByVal table As ListObject, ByVal idCol As Long, ByVal startCol As Long, _
                          ByVal kindCol As Long) As String
    Dim body As Range
    Set body = table.DataBodyRange
    TableKey = table.Parent.Name & "!" & table.Range.Address & "|" & idCol & "|" & startCol & "|" & kindCol & _
               "|" & CellText(body.Cells(1, idCol).Value2) & "|" & CellText(body.Cells(body.Rows.Count, idCol).Value2)
End Function

Private Sub BuildIndex(ByVal table As ListObject, ByVal idCol As Long, ByVal startCol As Long, _
                       ByVal kindCol As Long, ByVal key As String)
    Dim r As Long, id As String
    indexKey = ""
    indexIds = ColumnValues(table, idCol)
    indexStarts = ColumnValues(table, startCol)
    If kindCol > 0 Then indexKinds = ColumnValues(table, kindCol) Else indexKinds = Empty
    Set idRows = New Collection
    For r = 1 To UBound(indexIds, 1)
        id = LCase$(Trim$(CellText(indexIds(r, 1))))
        If IsWorkoutId(id) Then
            If IndexedRow(id) = 0 Then idRows.Add r, id ' the first row of an ID, as a scan finds it
        End If
    Next r
    indexKey = key
    indexBuilt = Timer
End Sub

' The row the index holds for a Workout ID; 0 when it has none.
Private Function IndexedRow(ByVal id As String) As Long
    On Error Resume Next ' a key the Collection lacks: no row
    IndexedRow = idRows(id)
End Function

' Condition 3: the sheet's row still holds the Workout ID and the Start the index read there.
Private Function RowUnchanged(ByVal table As ListObject, ByVal row As Long, ByVal idCol As Long, _
                              ByVal startCol As Long) As Boolean
    Dim body As Range
    Set body = table.DataBodyRange
    If row > body.Rows.Count Then Exit Function
    RowUnchanged = CellText(body.Cells(row, idCol).Value2) = CellText(indexIds(row, 1)) And _
                   CellText(body.Cells(row, startCol).Value2) = CellText(indexStarts(row, 1))
End Function

' A cell's value as text to compare; "" for an empty cell or an error value (which CStr refuses).
Private Function CellText(ByVal value As Variant) As String
    If IsError(value) Or IsEmpty(value) Then Exit Function
    CellText = CStr(value)
End Function

' The index's row (1 = first data row) of the workout asked for; 0 when there is none, -1 when the
' argument is not a Workout ID, a date, "latest" or "latest <kind>".
Private Function WorkoutRow(ByVal workout As Variant) As Long
    Dim text As String, target As Double, kind As String

    Select Case VarType(workout)
        Case vbString
            text = LCase$(Trim$(workout))
            If text = "latest" Then
                WorkoutRow = LatestRow(indexStarts, -1)
                Exit Function
            End If
            If Left$(text, 7) = "latest " Then
                kind = DisciplineKey(Trim$(Mid$(text, 8)))
                If kind = "" Then
                    WorkoutRow = -1
                ElseIf Not IsEmpty(indexKinds) Then
                    WorkoutRow = LatestOfKind(indexStarts, indexKinds, kind)
                End If
                Exit Function
            End If
            If IsWorkoutId(text) Then
                WorkoutRow = IndexedRow(text)
                Exit Function
            End If
            If text Like "####-##-##t*" Then text = Replace(text, "t", " ", 1, 1) ' ISO 8601, as Python reads it
            If Not IsDate(text) Then
                WorkoutRow = -1
                Exit Function
            End If
            target = CDbl(CDate(text))
        Case vbDate, vbDouble, vbSingle, vbInteger, vbLong, vbCurrency, vbDecimal
            target = CDbl(workout)
            If target <= 0 Or target >= LAST_SERIAL Then
                WorkoutRow = -1
                Exit Function
            End If
        Case Else ' empty, TRUE/FALSE, an error value
            WorkoutRow = -1
            Exit Function
    End Select

    ' A date-time: the workout that started in that minute; a bare date: the latest that day.
    WorkoutRow = LatestRow(indexStarts, target, True)
    If WorkoutRow = 0 And target = Int(target) Then WorkoutRow = LatestRow(indexStarts, target, False)
End Function

' The row of the latest start: of all (onDay < 0), of those within a minute of onDay (sameMinute),
' or of those on onDay's date.
Private Function LatestRow(ByVal starts As Variant, ByVal onDay As Double, _
                           Optional ByVal sameMinute As Boolean = False) As Long
    Dim r As Long, start As Double, best As Double, found As Boolean
    For r = 1 To UBound(starts, 1)
        If VarType(starts(r, 1)) = vbDouble Or VarType(starts(r, 1)) = vbDate Then
            start = CDbl(starts(r, 1))
            If onDay < 0 Then
                found = True
            ElseIf sameMinute Then
                found = Abs(start - onDay) * 1440# < 1
            Else
                found = Int(start) = Int(onDay)
            End If
            If found And (LatestRow = 0 Or start > best) Then
                LatestRow = r
                best = start
            End If
        End If
    Next r
End Function

' The newest row whose Discipline reads `kind` (a NameKey).
Private Function LatestOfKind(ByVal starts As Variant, ByVal kinds As Variant, ByVal kind As String) As Long
    Dim r As Long, best As Double
    For r = 1 To UBound(starts, 1)
        If VarType(starts(r, 1)) = vbDouble Or VarType(starts(r, 1)) = vbDate Then
            If NameKey(CellText(kinds(r, 1))) = kind Then
                If LatestOfKind = 0 Or CDbl(starts(r, 1)) > best Then
                    LatestOfKind = r
                    best = CDbl(starts(r, 1))
                End If
            End If
        End If
    Next r
End Function

' "ride", "run", "row", "walk" as the Discipline column names them (pelotonxl/excel/functions.py:
' LATEST_KINDS); any other word is a discipline's own name ("yoga"). "" for no word at all.
Private Function DisciplineKey(ByVal word As String) As String
    Select Case NameKey(word)
        Case "ride": DisciplineKey = "cycling"
        Case "run": DisciplineKey = "running"
        Case "row": DisciplineKey = "rowing"
        Case "walk": DisciplineKey = "walking"
        Case Else: DisciplineKey = NameKey(word)
    End Select
End Function

Private Function HeaderColumn(ByVal headers As Variant, ByVal label As String) As Long
    Dim c As Long
    For c = 1 To UBound(headers, 2)
        If StrComp(Trim$(CStr(headers(1, c))), label, vbTextCompare) = 0 Then
            HeaderColumn = c
            Exit Function
        End If
    Next c
End Function

' One column's data cells as a 1-based 2-D array, even for a table of one row.
Private Function ColumnValues(ByVal table As ListObject, ByVal col As Long) As Variant
    ColumnValues = RowValues(table.ListColumns(col).DataBodyRange)
End Function

' A range's values as a 1-based 2-D array, even for a single cell (whose Value2 is no array).
Private Function RowValues(ByVal area As Range) As Variant
    Dim one(1 To 1, 1 To 1) As Variant
    If area.Cells.Count = 1 Then
        one(1, 1) = area.Value2
        RowValues = one
    Else
        RowValues = area.Value2
    End If
End Function

Private Function IsWorkoutId(ByVal text As String) As Boolean
    Dim i As Long
    If Len(text) <> 32 Then Exit Function
    For i = 1 To 32
        If InStr(1, "0123456789abcdef", Mid$(text, i, 1), vbBinaryCompare) = 0 Then Exit Function
    Next i
    IsWorkoutId = True
End Function

' "Avg Output", "avg_output" and "AVG-OUTPUT" all become "avgoutput" (functions.py's _key).
Private Function NameKey(ByVal text As String) As String
    Dim i As Long, ch As String
    text = LCase$(text)
    For i = 1 To Len(text)
        ch = Mid$(text, i, 1)
        If (ch >= "a" And ch <= "z") Or (ch >= "0" And ch <= "9") Then NameKey = NameKey & ch
    Next i
End Function

' "Avg Output (watts)" -> "Avg Output".
Private Function WithoutUnit(ByVal header As String) As String
    Dim paren As Long
    header = Trim$(header)
    paren = InStrRev(header, " (")
    If paren > 0 And Right$(header, 1) = ")" Then WithoutUnit = Left$(header, paren - 1) Else WithoutUnit = header
End Function

' The slugs whose header name differs from the slug (pelotonxl/model/catalog.py: METRIC_NAMES,
' SLUG_ALIASES); every other slug reads as its name once both are keys.
Private Function SlugAsName(ByVal key As String) As String
    Select Case key
        Case "strokecount": SlugAsName = "strokes"
        Case "totalcalories": SlugAsName = "calories"
        Case Else: SlugAsName = key
    End Select
End Function
